import { strict as assert } from "assert";
import { RecentLists } from "../../provider/recent-lists";
import { FakeClock } from "../helpers/fake-clock";

// The rule that keeps a refresh from reporting what this process knows to be out of date: a list sent
// before one of its own writes, or answered while one is under way, answers no later read.
describe("recent lists (kept for refresh)", () => {
  const key = "/v1/projects/prj_1/preview-databases";
  let clock: FakeClock;
  let lists: RecentLists<string[]>;
  beforeEach(() => {
    clock = new FakeClock();
    lists = new RecentLists<string[]>(clock);
  });

  it("keeps a list sent after the last write, for reads asked within its age", () => {
    const sent = lists.stamp();
    lists.remember(key, ["pvw_1"], sent);
    assert.deepEqual(lists.find(key, clock.now() - 1_000), ["pvw_1"]);
    clock.advance(2_000);
    assert.equal(lists.find(key, clock.now() - 1_000), undefined, "older than the reader accepts");
  });

  it("does not keep a list sent before a write of this process that was answered after it", async () => {
    const sent = lists.stamp(); // the list goes out
    await lists.duringWrite(async () => "deleted"); // a DELETE is sent and answered meanwhile
    lists.remember(key, ["pvw_deleted"], sent); // the list's answer arrives after it
    assert.equal(lists.find(key, 0), undefined, "a list from before the delete would show the deleted preview");
  });

  it("does not keep a list answered while a write is under way, even one sent after the write began", async () => {
    let answerList!: () => void;
    const write = lists.duringWrite(
      () =>
        new Promise<void>((resolve) => {
          const sent = lists.stamp();
          answerList = () => lists.remember(key, ["pvw_1"], sent);
          setImmediate(resolve);
        }),
    );
    answerList();
    assert.equal(lists.find(key, 0), undefined, "kept while the create or delete may not be in it yet");
    await write;
    assert.equal(lists.find(key, 0), undefined);
    const after = lists.stamp();
    lists.remember(key, ["pvw_1", "pvw_2"], after);
    assert.deepEqual(lists.find(key, 0), ["pvw_1", "pvw_2"], "a list sent after the write is kept");
  });

  it("keeps the newest send when answers arrive out of order", () => {
    const older = lists.stamp();
    const newer = lists.stamp();
    lists.remember(key, ["newer"], newer);
    lists.remember(key, ["older"], older);
    assert.deepEqual(lists.find(key, 0), ["newer"]);
  });
});
