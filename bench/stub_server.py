"""A minimal OpenAI-compatible chat-completions server for benchmarks.

Every request to POST /v1/chat/completions waits a fixed latency (asyncio.sleep, so many
requests overlap) and answers with a well-formed `chat.completion` object. GET /v1/models
lists the one model name. Binds to 127.0.0.1 only; uvicorn's access log is off.

    .venv/bin/python bench/stub_server.py --port 8765 --latency-ms 100
"""

import argparse
import asyncio
import itertools
import json
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_MODEL = "stub-model"


def _rough_tokens(text: str) -> int:
    """A cheap stand-in for a tokenizer: about one token per word."""
    return max(1, len(text.split()))


def build_app(latency_s: float, model_name: str = DEFAULT_MODEL) -> Starlette:
    counter = itertools.count(1)

    async def chat_completions(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            messages = body["messages"]
            prompt_text = " ".join(str(m.get("content") or "") for m in messages)
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse(
                {
                    "error": {
                        "message": "body must be JSON with a 'messages' list",
                        "type": "invalid_request_error",
                    }
                },
                status_code=400,
            )
        n = next(counter)
        if latency_s > 0:
            await asyncio.sleep(latency_s)
        max_tokens = body.get("max_tokens") or 16
        words = min(int(max_tokens), 12)
        content = " ".join(["stub"] * (words - 1) + [f"#{n}"])
        if isinstance(body.get("response_format"), dict):
            content = json.dumps({"reply": content})
        prompt_tokens = _rough_tokens(prompt_text)
        completion_tokens = words
        return JSONResponse(
            {
                "id": f"chatcmpl-stub-{n}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model") or model_name,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": model_name, "object": "model", "created": 0, "owned_by": "bench"}],
            }
        )

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765, help="TCP port on 127.0.0.1")
    parser.add_argument(
        "--latency-ms", type=float, default=100.0, help="fixed delay before each chat reply (default 100)"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help="name listed by /v1/models")
    parser.add_argument("--backlog", type=int, default=2048)
    args = parser.parse_args()

    app = build_app(args.latency_ms / 1000.0, args.model)
    print(f"stub_server: http://127.0.0.1:{args.port}/v1 latency_ms={args.latency_ms}", flush=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        backlog=args.backlog,
        timeout_keep_alive=60,
    )


if __name__ == "__main__":
    main()
