"""A scriptable OpenAI-compatible HTTP server on loopback, for fault tests of the real client."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(text: str) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


class StubServer:
    """Each request takes the next scripted step: an HTTP status, ('sleep', s), ('ok', text) or
    ('echo-auth', status), an error whose body quotes the request's Authorization header.

    Once the steps run out, `default` answers: a step, or a function of the request body.
    """

    def __init__(self, steps=(), default=("ok", "fine"), port: int = 0):
        self.steps, self.default, self.requests, self.auth = list(steps), default, [], []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                stub.auth.append(self.headers.get("Authorization", ""))  # what credential arrived
                step = stub.steps.pop(0) if stub.steps else stub.default
                if callable(step):
                    step = step(body)
                if isinstance(step, int):
                    return self._send(step, {"error": {"message": f"stub status {step}"}})
                if step[0] == "echo-auth":  # a careless server quoting the credential it was sent
                    seen = self.headers.get("Authorization", "")
                    message = f"bad request with {seen} (key {seen.removeprefix('Bearer ')})"
                    return self._send(step[1], {"error": {"message": message}})
                if step[0] == "sleep":
                    time.sleep(step[1])
                    step = ("ok", "fine") if len(step) == 2 else step[2]
                self._send(200, completion(step[1] if step[0] == "ok" else step[0]))

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
