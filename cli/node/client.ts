/**
 * HTTP client of a node's API, used by mixers, the command line, the example and
 * tests. POST bodies are msgpack envelopes signed with the caller's identity;
 * responses are JSON. Error responses become typed Panoramix errors.
 *
 * @module
 */

import { encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { PanoramixError } from "../../core/errors.ts";
import { signRequest } from "./auth.ts";
import type { Identity } from "./identity.ts";
import { type Post, postToEnvelope } from "./posts.ts";

/** An error response from a node. */
export class NodeHttpError extends PanoramixError {
  /** HTTP status. */
  readonly status: number;
  /**
   * Creates the instance.
   *
   * @param status HTTP status
   * @param code the response's error code
   * @param message the response's message
   */
  constructor(status: number, code: string, message: string) {
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
    this.name = "NodeHttpError";
  }
}

/** Options of {@linkcode NodeClient}. */
export interface NodeClientOptions {
  /** Identity that signs state-changing requests. */
  identity?: Identity;
  /** Request timeout in ms (default 120,000). */
  timeoutMs?: number;
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
    return await this.#fetch(path, {});
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
