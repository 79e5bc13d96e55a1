"""HTTP shell of the simulated reasoning backend: a TEST DOUBLE that behaves like vLLM serving a
DeepSeek-R1 distill, for demos, tests and benchmarks. It runs no model; every token, timing and joule
it reports is simulated (see :mod:`config` for the defaults and their sources).

Endpoints: ``POST /v1/chat/completions`` and ``POST /v1/completions`` (SSE or JSON; a completion's
prompt may be a list of token ids), ``POST /tokenize`` (vLLM's: chat messages rendered with the
simulated template, or raw text), ``GET /v1/models``, ``GET /health``,
``GET /metrics`` (vLLM token counters, DCGM-style energy/power), ``GET /sim/stats``, ``POST /sim/reset``.
The generation itself is planned by the pure :mod:`plan`; this module only paces, writes and counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from thinkbudget_litellm.sim import chat_template
from thinkbudget_litellm.sim import plan as planning
from thinkbudget_litellm.sim.config import SimConfig, Style
from thinkbudget_litellm.sim.exposition import render_metrics
from thinkbudget_litellm.sim.plan import Kind, Piece, Plan
from thinkbudget_litellm.sim.request import ChatRequest, RequestError, parse_chat_request
from thinkbudget_litellm.sim.state import RequestEntry, SimState
from thinkbudget_litellm.sim.tokens import encoding

STATE = web.AppKey("sim_state", SimState)


@dataclass
class _Call:
    """One accepted chat request on its way out."""

    request: web.Request
    state: SimState
    req: ChatRequest
    plan: Plan
    entry: RequestEntry
    text: bool = False  # /v1/completions: raw text, no reasoning parser (the thinking stays inline)
    token_ids: bool = False  # return_token_ids: every choice carries the ids it generated

    @property
    def style(self) -> Style:
        return Style.INLINE if self.text else self.state.config.style

    def body(self, obj: str, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        model = self.state.config.model_name
        return dict(id=self.entry.id, object=obj, created=int(time.time()), model=model, choices=choices, **extra)

    def usage(self) -> dict[str, Any]:
        n, prompt = len(self.plan.pieces), self.entry.prompt_tokens
        usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": n, "total_tokens": prompt + n}
        if self.style is Style.PARSER:  # vLLM counts reasoning tokens through its reasoning parser
            usage["completion_tokens_details"] = {"reasoning_tokens": self.plan.count(Kind.THINK)}
        return usage


def _error(status: int, message: str, kind: str) -> web.Response:
    error = {"message": message, "type": kind, "param": None, "code": status}
    return web.json_response({"error": error}, status=status)


def _gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


async def _generate(call: _Call, emit: Callable[[int, Piece], Awaitable[None]] | None) -> str:
    """Produce the plan's tokens at the configured pace; returns completed, disconnected or midstream."""
    fail, pieces = call.req.fail, call.plan.pieces
    stop_after = fail.after_tokens if fail is not None and fail.mode == "midstream" else len(pieces) + 1
    loop, rate = asyncio.get_running_loop(), call.state.config.tokens_per_second
    start = loop.time()
    for i, piece in enumerate(pieces):
        if i >= stop_after:
            return "midstream"
        await asyncio.sleep(max(0.0, start + (i + 1) / rate - loop.time()) if rate else 0)
        if _gone(call.request):
            return "disconnected"
        call.state.count_token(piece, call.entry)
        if emit is not None:
            try:
                await emit(i, piece)
            except ConnectionError:
                return "disconnected"
    return "midstream" if stop_after == len(pieces) else "completed"


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _serve(request, text=False)


async def completions(request: web.Request) -> web.StreamResponse:
    """``/v1/completions``: the prompt is the user's turn; as on vLLM, no reasoning parser runs, so the
    thinking arrives inline in ``text`` (``thinking_token_budget`` is honoured all the same)."""
    return await _serve(request, text=True)


def _as_chat(body: Any) -> Any:
    """A completion request as the chat request it continues: a string prompt is the user's turn;
    a list of ids is decoded and read back into its messages and the open assistant turn."""
    prompt = body.get("prompt") if isinstance(body, dict) else None
    is_ids = isinstance(prompt, list) and bool(prompt) and all(isinstance(i, int) for i in prompt)
    if not isinstance(prompt, str) and not is_ids:
        raise RequestError(400, "prompt must be a string or a list of token ids")
    chat = {k: v for k, v in body.items() if k != "prompt"}
    if isinstance(prompt, str):
        chat["messages"] = [{"role": "user", "content": prompt}]
        return chat
    assert isinstance(prompt, list)
    messages, tail = chat_template.parse_prompt(chat_template.decode(prompt))
    if not messages:
        raise RequestError(400, "the token-id prompt holds no message")
    chat["messages"] = [*messages, {"role": "assistant", "content": tail}]
    chat.update(continue_final_message=True, add_generation_prompt=False)
    return chat


def _preopens(cfg: SimConfig) -> bool:
    """The simulated template pre-opens <think> unless the model writes it itself (inline)."""
    return cfg.style is not Style.INLINE


async def tokenize(request: web.Request) -> web.Response:
    """vLLM's ``/tokenize``: ``messages`` rendered with the template (generation prompt by default,
    or the final message left open with ``continue_final_message``), or a raw ``prompt``."""
    cfg = request.app[STATE].config
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _error(400, f"invalid JSON body: {exc}", "BadRequestError")
    if not isinstance(body, dict):
        return _error(400, "the request body must be a JSON object", "BadRequestError")
    if isinstance(body.get("prompt"), str):
        ids = chat_template.encode(body["prompt"], with_markers=False)
        if body.get("add_special_tokens", True):
            ids = [chat_template.SPECIAL_IDS[chat_template.BOS], *ids]
    elif isinstance(body.get("messages"), list) and body["messages"]:
        messages = body["messages"]
        continue_final = body.get("continue_final_message") is True
        if continue_final and chat_template.prefill_refused(messages, cfg.template):
            return _error(400, chat_template.PREFILL_REFUSAL, "BadRequestError")
        text = chat_template.render(
            messages,
            template=cfg.template,
            preopens=_preopens(cfg),
            add_generation_prompt=body.get("add_generation_prompt", True) is not False,
            continue_final_message=continue_final,
        )
        ids = chat_template.encode(text)
    else:
        return _error(400, "either prompt or messages is required", "BadRequestError")
    return web.json_response({"count": len(ids), "max_model_len": cfg.max_model_len, "tokens": ids})


async def _serve(request: web.Request, *, text: bool) -> web.StreamResponse:
    state = request.app[STATE]
    cfg = state.config
    state.requests += 1
    entry = RequestEntry(id=f"{'cmpl' if text else 'chatcmpl'}-{uuid.uuid4().hex}")
    state.recent.append(entry)
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _error(400, f"invalid JSON body: {exc}", "BadRequestError")
    state.bodies.append(body)
    try:
        if (
            not text
            and isinstance(body, dict)
            and body.get("continue_final_message") is True
            and isinstance(body.get("messages"), list)
            and body["messages"]
            and chat_template.prefill_refused(body["messages"], cfg.template)
        ):
            raise RequestError(400, chat_template.PREFILL_REFUSAL)
        req = parse_chat_request(_as_chat(body) if text else body, request.headers, cfg)
        n_prompt = planning.prompt_tokens(req.messages)
        max_tokens = req.max_tokens or cfg.max_model_len - n_prompt
        if n_prompt + max_tokens > cfg.max_model_len:
            raise RequestError(
                400,
                f"This model's maximum context length is {cfg.max_model_len} tokens. However, you "
                f"requested {n_prompt + max_tokens} tokens ({n_prompt} in the messages, {max_tokens} in "
                "the completion).",
            )
    except RequestError as exc:
        entry.http_status = exc.status
        return _error(exc.status, exc.message, exc.kind)
    entry.stream, entry.continuation, entry.budget = req.stream, req.prefix is not None, req.budget
    if req.fail and (req.fail.mode == "always" or (req.fail.mode == "continuation" and req.prefix)):
        state.failures += 1
        entry.status, entry.http_status = "failed", 500
        return _error(500, f"simulated failure (fail={req.fail.mode})", "InternalServerError")
    digest = planning.prompt_digest(req.key_messages)
    lengths = dataclasses.replace(
        cfg,
        think_tokens=cfg.think_tokens if req.think_tokens is None else req.think_tokens,
        answer_tokens=cfg.answer_tokens if req.answer_tokens is None else req.answer_tokens,
    )
    think = entry.natural_think_tokens = planning.natural_think_tokens(digest, lengths)
    answer = planning.natural_answer_tokens(digest, lengths)
    plan = planning.plan_completion(
        style=Style.INLINE if text else cfg.style,
        digest=digest,
        think_tokens=think,
        answer_tokens=answer,
        budget=req.budget,
        prefix=req.prefix,
        max_tokens=max_tokens,
    )
    state.count_prompt(entry, n_prompt)
    state.running += 1
    try:
        call = _Call(request, state, req, plan, entry, text, body.get("return_token_ids") is True)
        return await (_stream(call) if req.stream else _respond(call))
    finally:
        state.running -= 1


def _hang_up(request: web.Request) -> None:
    """Drop the connection without finishing the response, as a crashed server would."""
    if request.transport is not None:
        request.transport.close()


async def _respond(call: _Call) -> web.StreamResponse:
    outcome = await _generate(call, None)
    call.state.finish(call.entry, outcome, call.plan.finish_reason)
    if outcome != "completed":
        _hang_up(call.request)
        return web.Response(status=499)
    reasoning, content = planning.render(call.plan.pieces, call.style)
    ids: dict[str, Any] = {"token_ids": _piece_ids(call.plan.pieces)} if call.token_ids else {}
    if call.text:
        choice = dict(
            index=0, text=content, logprobs=None, finish_reason=call.plan.finish_reason, stop_reason=None, **ids
        )
        return web.json_response(call.body("text_completion", [choice], usage=call.usage()))
    message: dict[str, Any] = {"role": "assistant", "content": content or None, "tool_calls": []}
    if call.style is Style.PARSER:
        message["reasoning"] = reasoning or None
        if call.req.prefix is not None and call.req.prefix.closed:
            # vLLM 0.32.0: with </think> already in the prompt, a non-streamed continuation comes back
            # labelled as reasoning, content null (streamed, it is labelled content)
            message["reasoning"], message["content"] = (reasoning + content) or None, None
    choice = dict(
        index=0, message=message, logprobs=None, finish_reason=call.plan.finish_reason, stop_reason=None, **ids
    )
    return web.json_response(call.body("chat.completion", [choice], usage=call.usage()))


def _piece_ids(pieces: Any) -> list[int]:
    return [i for p in pieces for i in chat_template.encode(p.text, with_markers=False)]


async def _stream(call: _Call) -> web.StreamResponse:
    pieces, finish = call.plan.pieces, call.plan.finish_reason
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(call.request)

    async def send(delta: dict[str, str] | None, finish_reason: str | None = None, **extra: Any) -> None:
        choice: dict[str, Any] = dict(index=0, delta=delta, logprobs=None, finish_reason=finish_reason)
        if call.text:
            choice = dict(index=0, text=(delta or {}).get("content", ""), logprobs=None, finish_reason=finish_reason)
        ids = extra.pop("ids", None)
        if call.token_ids and ids is not None:
            choice["token_ids"] = ids
        choices = [] if delta is None else [choice]
        chunk = call.body("text_completion" if call.text else "chat.completion.chunk", choices, **extra)
        await resp.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")

    async def emit(i: int, piece: Piece) -> None:
        last = i == len(pieces) - 1
        if call.style is Style.PARSER:  # the parser hides the markers; the text goes to its field
            delta = {Kind.THINK: {"reasoning": piece.text}, Kind.ANSWER: {"content": piece.text}}.get(piece.kind)
        else:
            delta = {"content": piece.text}
        # vLLM drops marker-only deltas (unless they carry return_token_ids), but the last chunk carries the finish
        if delta is not None or last or call.token_ids:
            await send(delta or {"content": ""}, finish if last else None, ids=_piece_ids([piece]))

    try:
        await send({"role": "assistant", "content": ""})
        outcome = await _generate(call, emit)
        if outcome == "completed":
            if not pieces:
                await send({"content": ""}, finish)
            if call.req.include_usage:
                await send(None, usage=call.usage())
            await resp.write(b"data: [DONE]\n\n")
    except ConnectionError:
        outcome = "disconnected"
    call.state.finish(call.entry, outcome, finish)
    if outcome != "completed":
        _hang_up(call.request)
    return resp


async def models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    name = state.config.model_name
    created = int(time.time() - (time.monotonic() - state.started))
    model = dict(id=name, object="model", created=created, owned_by="vllm", root=name, parent=None)
    model.update(max_model_len=state.config.max_model_len, permission=[])
    return web.json_response({"object": "list", "data": [model]})


async def metrics(request: web.Request) -> web.Response:
    text = render_metrics(request.app[STATE].snapshot())
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def stats(request: web.Request) -> web.Response:
    s = request.app[STATE]
    counts = dict(
        requests=s.requests,
        running=s.running,
        disconnects=s.disconnects,
        failures=s.failures,
        tokens=s.tokens,
    )
    recent = [dataclasses.asdict(e) for e in s.recent]
    # the pid lets a launcher tell its own simulator from another that took the same port
    return web.json_response({**counts, "pid": os.getpid(), "recent": recent, "last_bodies": list(s.bodies)})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"reset": True})


async def health(request: web.Request) -> web.Response:
    return web.Response(status=200)


def build_app(config: SimConfig) -> web.Application:
    encoding()  # load the tokenizer now, not on the first request
    app = web.Application()
    app[STATE] = SimState(config)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/tokenize", tokenize)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/sim/stats", stats)
    app.router.add_post("/sim/reset", reset)
    return app


async def serve(config: SimConfig, host: str, port: int, on_ready: Callable[[str], None], stop: asyncio.Event) -> None:
    """Listen until stop is set; on_ready gets the base URL (``http://host:port/v1``) once bound."""
    runner = web.AppRunner(build_app(config), shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        on_ready(f"http://{host}:{runner.addresses[0][1]}/v1")
        await stop.wait()
    finally:
        await runner.cleanup()


def run_server(config: SimConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; prints one readiness line when listening."""
    style, native = config.style.value, config.native_budget
    banner = f"thinkbudget sim-backend (SIMULATED vLLM, style={style}, native_budget={native})"

    async def main() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await serve(config, host, port, lambda url: print(f"{banner} listening on {url}", flush=True), stop)

    asyncio.run(main())
