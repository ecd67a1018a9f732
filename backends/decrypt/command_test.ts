import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { decodeSphinxCommand, encodeSphinxCommand, type SphinxCommand } from "./command.ts";

const id = new Uint8Array(32).fill(0xab);

Deno.test("routing commands round trip", () => {
  const commands: SphinxCommand[] = [
    { kind: "forward", nextHop: id, nextKeyId: 255, delayMs: 0xffffffff },
    { kind: "deliver", recipient: id, delayMs: 12 },
    { kind: "reply", recipient: id, surbId: new Uint8Array(16).fill(3), delayMs: 0 },
  ];
  for (const c of commands) {
    const bytes = encodeSphinxCommand(c);
    assert.equal(bytes.length, 64);
    assert.deepEqual(decodeSphinxCommand(bytes), c);
  }
});

Deno.test("routing commands reject bad fields", () => {
  assert.throws(
    () => encodeSphinxCommand({ kind: "deliver", recipient: new Uint8Array(31), delayMs: 0 }),
    InvalidInputError,
  );
  assert.throws(
    () => encodeSphinxCommand({ kind: "deliver", recipient: id, delayMs: -1 }),
    InvalidInputError,
  );
  assert.throws(
    () => encodeSphinxCommand({ kind: "forward", nextHop: id, nextKeyId: 256, delayMs: 0 }),
    InvalidInputError,
  );
  const unknown = new Uint8Array(64);
  unknown[0] = 9;
  assert.throws(() => decodeSphinxCommand(unknown), InvalidInputError);
  const reserved = encodeSphinxCommand({ kind: "deliver", recipient: id, delayMs: 0 });
  reserved[60] = 1;
  assert.throws(() => decodeSphinxCommand(reserved), InvalidInputError);
  assert.throws(() => decodeSphinxCommand(new Uint8Array(10)), InvalidInputError);
});
