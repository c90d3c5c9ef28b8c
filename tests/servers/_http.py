"""A threaded HTTP server on 127.0.0.1 with a free port, the base of the stand-ins."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["StandInServer", "fido_client_in_place_of"]


@contextlib.contextmanager
def fido_client_in_place_of(client, replaced):
    """Within the block, Fido asks ``client`` instead of ``replaced`` (Fido's client registry is restored after)."""
    from sunpy.net import Fido

    had = replaced in Fido.registry
    if had:
        Fido.unregister(replaced)
    Fido.register(client)
    try:
        yield
    finally:
        Fido.unregister(client)
        if had:
            Fido.register(replaced)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: tests read the server's own log instead
        pass

    def _dispatch(self, method):
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            self.server.stand_in.handle(self, method, parts.path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (killed, or it gave up): nothing to answer

    def do_GET(self):  # the name http.server calls
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")


class StandInServer:
    """
    An HTTP server in a daemon thread; subclasses implement `handle`.

    Use it as a context manager, or call `start` and `stop`. ``url`` is ``http://127.0.0.1:<port>/``.
    """

    def __init__(self):
        self._httpd = None
        self._thread = None
        self.delay = 0.0
        """Seconds to wait before answering any request (a slow server)."""
        self.requests = []
        """``(method, path, query)`` of every request, in order."""
        self._lock = threading.Lock()

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.stand_in = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=10)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def record(self, method, path, query):
        with self._lock:
            self.requests.append((method, path, dict(query)))

    def pause(self):
        if self.delay:
            time.sleep(self.delay)

    def handle(self, handler, method, path, query):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def send_json(handler, data, status=200):
        body = json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def send_error_page(handler, status, text):
        body = f"<html><body><h1>{status}</h1><p>{text}</p></body></html>".encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command != "HEAD":  # a HEAD answer has headers only
            handler.wfile.write(body)
        handler.close_connection = True
