import { cutText, cutTextKeepingEnd, MAX_SERVER_TEXT_CHARS } from "./bounded-text";
import { redact } from "./redact";

/**
 * The one way text from the server (error bodies, a job's error and stderr, `last_error`) enters an
 * error message, a log line or an output. In this order:
 *  1. redacted whole, so that a secret straddling the cut is still masked whole (a cut secret no longer
 *     matches itself, and a cut URL loses the context the patterns need);
 *  2. cut to MAX_SERVER_TEXT_CHARS, from the start or keeping the end;
 *  3. made inert for a terminal: control characters and escape sequences shown as `\xNN`/`\uNNNN`,
 *     and every line after the first indented, so no server text can start a line of its own (it can
 *     never pass for a `[capydb] …` progress line, clear the screen or hide what follows).
 */
export function serverText(text: string, opts: { keep?: "start" | "end"; max?: number } = {}): string {
  const max = opts.max ?? MAX_SERVER_TEXT_CHARS;
  const whole = redact(text);
  return inert(opts.keep === "end" ? cutTextKeepingEnd(whole, max) : cutText(whole, max));
}

/** Continuation lines of server text start with this, under the line that introduced it. */
export const CONTINUATION_INDENT = "    ";

// C0 controls but tab and newline, DEL, C1 controls (0x9b is CSI on its own), bidirectional overrides
// and isolates, and the Unicode line and paragraph separators.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Control characters escaped, lines after the first indented. */
export function inert(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .replace(UNSAFE, escapeChar)
    .replace(/\n/g, `\n${CONTINUATION_INDENT}`);
}

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === "\r") return "\\r";
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}
