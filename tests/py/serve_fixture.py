# Starting and stopping `isc serve` for the Python tests and the benchmark: a server on a free
# loopback port (--port 0), ready once it prints its "listening" line, stopped with SIGTERM.
import json
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

READY = re.compile(r"isc serve: listening on (http://\S+) \((.*)\)")


class Server:
    def __init__(self, isc_bin, model, *args, cwd=None, env=None, timeout=180):
        cmd = [str(isc_bin), "serve", str(model), "--port", "0", *map(str, args)]
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        ready = threading.Event()
        self.url = self.model_id = None

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = READY.search(line)
                if m:
                    self.url, self.model_id = m.group(1), m.group(2)
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(timeout) or self.url is None:
            self.proc.kill()
            raise RuntimeError("isc serve did not start:\n" + "\n".join(self.lines))
        self.base = self.url + "/v1"

    def request(self, method, path, body=None, headers=None, raw=None, timeout=300):
        """(status, parsed JSON body) of one HTTP request; raw = bytes sent as the body verbatim."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text

    def health(self):
        status, body = self.request("GET", "/health")
        assert status == 200, body
        return body

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the server; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("isc serve did not stop within %ss:\n%s" % (timeout, "\n".join(self.lines)))
        self.reader.join(5)
        return self.proc.returncode

    def wait_idle(self, timeout=30):
        """Waits until no request is in flight in the engine."""
        end = time.time() + timeout
        while time.time() < end:
            if self.health()["in_flight"] == 0:
                return True
            time.sleep(0.1)
        return False
