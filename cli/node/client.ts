/**
 * HTTP client of a node's API, used by mixers, the command line, the example and
 * tests. POST bodies are msgpack envelopes signed with the caller's identity;
 * responses are JSON. Error responses become typed Panoramix errors.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { PanoramixError } from "../../core/errors.ts";
import { msgpackChunksAsync } from "../../core/msgpack_stream.ts";
import { signRequest } from "./auth.ts";
import type { Identity } from "./identity.ts";
import { type Post, postToEnvelope } from "./posts.ts";

/** An error response from a node. */
export class NodeHttpError extends PanoramixError {
  /** HTTP status. */
  readonly status: number;
  /** The wait the node asked for with `Retry-After`, in ms. */
  readonly retryAfterMs: number | undefined;
  /**
   * Creates the instance.
   *
   * @param status HTTP status
   * @param code the response's error code
   * @param message the response's message
   * @param retryAfterMs the response's `Retry-After` in ms, if it had one
   */
  constructor(status: number, code: string, message: string, retryAfterMs?: number) {
    super(
      (["invalid_input", "verification_failed", "not_found", "replay", "batch_too_small", "config"]
          .includes(code)
        ? code
        : status === 429 || status >= 500
        ? "unavailable"
        : "invalid_input") as PanoramixError["code"],
      `${message} (HTTP ${status})`,
    );
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.name = "NodeHttpError";
  }
}

/** What {@linkcode NodeClientOptions.onRetry} is told before each wait of a retried GET. */
export interface NodeRetry {
  /** The node's base URL. */
  url: string;
  /** The path asked for. */
  path: string;
  /** The try that was refused (from 1). */
  attempt: number;
  /** The refusal's status (503, or 429 with Retry-After). */
  status: number;
  /** The refusal's message. */
  message: string;
  /** How long the client waits before the next try, in ms. */
  waitMs: number;
  /** The whole wait allowed for this request, in ms (`retryForMs`). */
  retryForMs: number;
}

/** Options of {@linkcode NodeClient}. */
export interface NodeClientOptions {
  /** Identity that signs state-changing requests. */
  identity?: Identity;
  /** Request timeout in ms (default 120,000). */
  timeoutMs?: number;
  /**
   * How long a GET refused with 503 (or 429 with `Retry-After`) is tried again, in ms from
   * its first try (default 180,000; 0: never). POSTs are never tried again by the client.
   */
  retryForMs?: number;
  /** First wait in ms when the node gives no `Retry-After` (default 250; doubles per try). */
  initialBackoffMs?: number;
  /** Longest wait in ms when the node gives no `Retry-After` (default 10,000). */
  maxBackoffMs?: number;
  /** Uniform [0, 1) for the jitter (default Math.random; not security relevant). */
  jitter?: () => number;
  /** Told before each wait of a retried GET (e.g. to say once on stderr that it waits). */
  onRetry?: (retry: NodeRetry) => void;
}

/** Default of {@linkcode NodeClientOptions.retryForMs}: three minutes. */
export const DEFAULT_RETRY_FOR_MS = 180_000;

/**
 * The seconds of a `Retry-After` header in ms, or undefined when absent or not a number of
 * seconds (an HTTP date is not used by Panoramix nodes and is treated as absent).
 *
 * @param value the header's value
 * @returns the wait it asks for in ms
 */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

/**
 * An `onRetry` hook that writes one line the first time a client waits (later waits are
 * silent), e.g. to a command's stderr.
 *
 * @param write writes one line (without its newline)
 * @returns the hook for {@linkcode NodeClientOptions.onRetry}
 * @example
 * ```ts
 * import { retryNoticeOnce } from "./client.ts";
 * const lines: string[] = [];
 * const hook = retryNoticeOnce((line) => lines.push(line));
 * const retry = { url: "http://127.0.0.1:1", path: "/v1/board/posts/3/body", attempt: 1,
 *   status: 503, message: "Busy (HTTP 503)", waitMs: 1000, retryForMs: 180_000 };
 * hook(retry);
 * hook({ ...retry, attempt: 2 });
 * console.assert(lines.length === 1);
 * ```
 */
export function retryNoticeOnce(write: (line: string) => void): (retry: NodeRetry) => void {
  let told = false;
  return (retry) => {
    if (told) return;
    told = true;
    write(
      `Node ${retry.url} is busy (${retry.message}); waiting and retrying for up to ${
        Math.round(retry.retryForMs / 1000)
      } s`,
    );
  };
}

/**
 * Client of one node's HTTP API.
 *
 * @example
 * ```ts ignore
 * const client = new NodeClient("http://127.0.0.1:8470", { identity });
 * const jobs = await client.getJson("/v1/board/jobs");
 * ```
 */
export class NodeClient {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  #o: NodeClientOptions;

  /**

   * Creates the instance.
   *
   * @param baseUrl node URL, e.g. http://127.0.0.1:8470
   * @param options identity and timeout
   */
  constructor(baseUrl: string, options: NodeClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#o = options;
  }

  async #check(response: Response): Promise<unknown> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      body = { error: "invalid_input", message: text.slice(0, 200) };
    }
    if (!response.ok) {
      const b = (body ?? {}) as { error?: string; message?: string };
      throw new NodeHttpError(
        response.status,
        b.error ?? "internal",
        b.message ?? "Request failed",
        retryAfterMs(response.headers.get("retry-after")),
      );
    }
    return body;
  }

  /**
   * GETs a path and parses the JSON response.
   *
   * @param path path with query
   * @returns the parsed JSON
   * @throws {NodeHttpError} on an error status
   */
  async getJson(path: string): Promise<unknown> {
    return await this.#retrying(path, () => this.#fetch(path, {}));
  }

  /**
   * Runs an idempotent request until it is not refused as busy: a 503, or a 429 that says
   * when to come back, is tried again after the node's `Retry-After` (a tenth more at most,
   * jittered) or else a capped exponential backoff with jitter, while the next wait ends
   * within `retryForMs` of the first try; then the last refusal is thrown as it is.
   */
  async #retrying<T>(path: string, run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const window = this.#o.retryForMs ?? DEFAULT_RETRY_FOR_MS;
    const initial = this.#o.initialBackoffMs ?? 250;
    const cap = this.#o.maxBackoffMs ?? 10_000;
    const jitter = this.#o.jitter ?? Math.random;
    for (let attempt = 1;; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof NodeHttpError)) throw error;
        const asked = error.retryAfterMs;
        if (error.status !== 503 && !(error.status === 429 && asked !== undefined)) throw error;
        const wait = asked !== undefined
          ? asked * (1 + jitter() / 10)
          : Math.min(cap, initial * 2 ** (attempt - 1)) * (0.5 + jitter() / 2);
        if (Date.now() + wait > started + window) throw error;
        this.#o.onRetry?.({
          url: this.baseUrl,
          path,
          attempt,
          status: error.status,
          message: error.message,
          waitMs: wait,
          retryForMs: window,
        });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * GETs a path whose answer is a byte stream (e.g. a post body). The timeout applies to
   * the wait for the answer and then to each wait for the next piece of it.
   *
   * @param path path with query
   * @returns the response body, read as it arrives
   * @throws {NodeHttpError} on an error status
   */
  async getStream(path: string): Promise<ReadableStream<Uint8Array>> {
    return await this.#retrying(path, () => this.#getStreamOnce(path));
  }

  async #getStreamOnce(path: string): Promise<ReadableStream<Uint8Array>> {
    const controller = new AbortController();
    const ms = this.#o.timeoutMs ?? 120_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          controller.abort(
            new PanoramixError("unavailable", `Request to ${path} timed out after ${ms} ms`),
          ),
        ms,
      );
    };
    arm();
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, { signal: controller.signal });
    } catch (error) {
      clearTimeout(timer);
      throw error;
    }
    if (!response.ok || response.body === null) {
      clearTimeout(timer);
      await this.#check(response);
      throw new NodeHttpError(response.status, "unavailable", `No body from ${path}`);
    }
    return response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          arm();
          out.enqueue(chunk);
        },
        flush: () => clearTimeout(timer),
        cancel: () => clearTimeout(timer),
      }),
    );
  }

  // A cleared timer, not AbortSignal.timeout: a pending timeout would keep a stopping
  // daemon alive until it fires.
  async #fetch(path: string, init: RequestInit): Promise<unknown> {
    const controller = new AbortController();
    const ms = this.#o.timeoutMs ?? 120_000;
    const timer = setTimeout(
      () =>
        controller.abort(
          new PanoramixError("unavailable", `Request to ${path} timed out after ${ms} ms`),
        ),
      ms,
    );
    try {
      const response = await fetch(this.baseUrl + path, { ...init, signal: controller.signal });
      return await this.#check(response);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * POSTs an envelope as msgpack, signed with the client identity.
   *
   * @param path path with query
   * @param envelope the body
   * @returns the parsed JSON response
   * @throws {NodeHttpError} on an error status
   */
  async postEnvelope(path: string, envelope: Envelope): Promise<unknown> {
    const body = encodeMsgpack(envelope);
    const headers: Record<string, string> = { "content-type": "application/msgpack" };
    if (this.#o.identity) {
      Object.assign(headers, signRequest(this.#o.identity, { method: "POST", path, body }));
    }
    return await this.#fetch(path, { method: "POST", headers, body: body as BodyInit });
  }

  /**
   * POSTs a msgpack value written a chunk at a time (`msgpackChunksAsync`, core/msgpack_stream.ts:
   * `StreamedMap`, `StreamedBytes` … whose pieces may come from files), signed with the
   * client identity: `value` is called twice, once to hash the bytes for the request
   * signature and once to send them, and must give the same bytes each time. The body is
   * sent as a stream (chunked: the runtime's fetch sends no length for a stream), so no
   * copy of it is held. Never tried again, as every POST.
   *
   * @param path path with query
   * @param value makes the value to send, afresh at each call
   * @returns the parsed JSON response
   * @throws {NodeHttpError} on an error status
   */
  async postMsgpackStream(path: string, value: () => unknown): Promise<unknown> {
    const hash = sha256.create();
    for await (const chunk of msgpackChunksAsync(value())) hash.update(chunk);
    const bodyDigest = hash.digest();
    const headers: Record<string, string> = { "content-type": "application/msgpack" };
    if (this.#o.identity) {
      Object.assign(
        headers,
        signRequest(this.#o.identity, { method: "POST", path, body: new Uint8Array(), bodyDigest }),
      );
    }
    return await this.#fetch(path, {
      method: "POST",
      headers,
      body: ReadableStream.from(msgpackChunksAsync(value())),
    });
  }

  /**
   * Submits a post to the board.
   *
   * @param post the signed post (its author must be this client's identity)
   * @returns the receipt (JSON view)
   */
  async submitPost(post: Post): Promise<{ seq: number; digest: string; chain: string }> {
    return await this.postEnvelope("/v1/board/posts", postToEnvelope(post)) as {
      seq: number;
      digest: string;
      chain: string;
    };
  }
}
