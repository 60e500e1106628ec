import { strict as assert } from "assert";
import { cutText, cutTextKeepingEnd } from "../../provider/bounded-text";
import { redact } from "../../provider/redact";
import { describeJobFailure } from "../../provider/wait";

describe("redaction of text nobody registered", () => {
  it("masks credentials by their shape: URLs, bearer tokens, CapyDB keys, password assignments", () => {
    const cases: Array<[string, string]> = [
      ["postgres://app:hunter2-x@db:5432/x", "postgres://app:***@db:5432/x"],
      ["Authorization: Bearer abc.def-123", "Authorization: Bearer ***"],
      ["key capy_live_abcDEF0123456789 rejected", "key capy_live_*** rejected"],
      ["PGPASSWORD=hunter2-x pg_restore", "PGPASSWORD=*** pg_restore"],
      ["host=db password=hunter2-x user=app", "host=db password=*** user=app"],
      [`{"password": "hunter2-x", "user": "app"}`, `{"password": ***, "user": "app"}`],
      ["api_key: 'k-123456'", "api_key: ***"],
      ["token=abcdef&x=1", "token=***&x=1"],
    ];
    for (const [input, expected] of cases) assert.equal(redact(input), expected, input);
  });

  it("leaves ordinary text alone", () => {
    const text = "clone failed: No space left on device (exit code 1); the password was rejected";
    assert.equal(redact(text), text);
  });

  it("a failed job's error and stderr tail reach the user redacted and cut", () => {
    const message = describeJobFailure({
      id: "job_1",
      type: "branch.create",
      state: "failed",
      error: "clone failed: postgres://app:hunter2-x@10.0.0.7/src refused",
      last_stderr: `${"noise\n".repeat(2_000)}PGPASSWORD=hunter2-x pg_restore\nfatal: disk full ${"z".repeat(5_000)}`,
      last_exit_code: 1,
    });
    assert.ok(!message.includes("hunter2-x"), message);
    assert.match(message, /postgres:\/\/app:\*\*\*@10\.0\.0\.7/);
    assert.match(message, /\[cut: \d+ earlier characters\]/);
    assert.ok(message.length < 5_000, `${message.length} chars`);
  });

  it("cuts long server text and says how much", () => {
    assert.equal(cutText("abc", 5), "abc");
    assert.equal(cutText("abcdefgh", 5), "abcde… [cut: 3 more characters]");
    assert.equal(cutTextKeepingEnd("abcdefgh", 5), "[cut: 3 earlier characters] …defgh");
  });
});
