#!/usr/bin/python3
"""An HTTP server that logs who asked: the compatibility tests' web and git server.

    http_server.py PORT ROOT

Listens on every address of its namespace (IPv4 and IPv6) at PORT. Serves
the files under ROOT, and Git's smart HTTP protocol for the repositories under
ROOT/git (through `git http-backend`, as a web server would run it). Prints
"ready" once listening, then one line per request on standard output:

    request <client address> <method> <path>

so that a test can tell which address a client connected from.
"""
import http.server
import os
import socket
import subprocess
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _client(self):
        host = self.client_address[0]
        return host[7:] if host.startswith("::ffff:") else host

    def _log_request(self):
        print(f"request {self._client()} {self.command} {self.path}", flush=True)

    def log_message(self, format, *args):  # the request lines above replace it
        pass

    def do_GET(self):
        self._log_request()
        if self.path.startswith("/git/"):
            return self._git()
        return super().do_GET()

    def do_HEAD(self):
        self._log_request()
        return super().do_HEAD()

    def do_POST(self):
        self._log_request()
        if self.path.startswith("/git/"):
            return self._git()
        self.send_error(405)

    # Git's smart HTTP: the CGI `git http-backend`, fed the request body.
    def _git(self):
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": "/usr/bin:/bin",
            "GIT_PROJECT_ROOT": os.path.join(self.directory, "git"),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path[len("/git"):],
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self._client(),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        cgi = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True, timeout=60)
        head, _, content = cgi.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, content = cgi.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    server = Server(("::", port),
                    lambda *a, **kw: Handler(*a, directory=root, **kw))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
