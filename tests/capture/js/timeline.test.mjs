// Pure parts of the capture scripts, run by Node's test runner (tests/capture/test_js.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatMs, parseDuration } from "../../../app/static/js/dom.js";
import { isEmpty, isVisible } from "../../../app/static/js/form.js";
import { checkTurn, currentTurn, deleteTurn, endHearing, offsetAt, pauseTurn, replaceTurn, tapRole, undoLast } from "../../../app/static/js/timeline.js";

const ROLES = [
  { key: "judge", label: "Judge", colour: "#7cc4ff" },
  { key: "prosecutor", label: "Prosecutor", colour: "#ffb86b" },
  { key: "defense", label: "Defense", colour: "#7ee2a8" },
];

function hearing() {
  return { id: "h", started_at: new Date().toISOString(), ended_at: null, answers: {}, turns: [], _clock: 0, _undo: [] };
}

test("a tap ends the current turn and starts the next; the same role again does nothing", () => {
  const h = hearing();
  assert.equal(tapRole(h, "judge", 100), true);
  assert.equal(tapRole(h, "judge", 150), false);
  assert.equal(tapRole(h, "prosecutor", 200), true);
  assert.deepEqual(h.turns, [
    { role: "judge", start_ms: 100, end_ms: 200 },
    { role: "prosecutor", start_ms: 200, end_ms: null },
  ]);
  assert.equal(currentTurn(h).role, "prosecutor");
});

test("pause ends the turn without starting another; undo reverts taps and pauses exactly", () => {
  const h = hearing();
  tapRole(h, "judge", 0);
  tapRole(h, "prosecutor", 1000);
  pauseTurn(h, 1500);
  assert.equal(currentTurn(h), null);
  assert.equal(pauseTurn(h, 1600), false, "nothing to pause");
  tapRole(h, "defense", 3000);
  const before = structuredClone(h.turns.slice(0, 2));
  assert.equal(undoLast(h), true); // the defense tap
  assert.equal(undoLast(h), true); // the pause
  assert.deepEqual(h.turns, [before[0], { ...before[1], end_ms: null }]);
  assert.equal(undoLast(h), true); // the prosecutor tap: the judge speaks again
  assert.deepEqual(h.turns, [{ role: "judge", start_ms: 0, end_ms: null }]);
  assert.equal(undoLast(h), true);
  assert.deepEqual(h.turns, []);
  assert.equal(undoLast(h), false);
});

test("logging after the end of a hearing resumes it, and undo ends it again", () => {
  const h = hearing();
  tapRole(h, "judge", 0);
  endHearing(h, 500);
  assert.deepEqual(h.turns, [{ role: "judge", start_ms: 0, end_ms: 500 }]);
  const ended = h.ended_at;
  assert.ok(ended);
  tapRole(h, "prosecutor", 900);
  assert.equal(h.ended_at, null);
  undoLast(h);
  assert.equal(h.ended_at, ended);
});

test("offsets never run backwards, whatever the clock says", () => {
  const h = hearing();
  h._clock = 10_000;
  tapRole(h, "judge", offsetAt(h, 12_000));
  tapRole(h, "prosecutor", offsetAt(h, 15_000));
  // A clock that jumped back (a reload after the phone's time was corrected).
  const t = offsetAt(h, 11_000);
  assert.equal(t, 5_000);
  tapRole(h, "defense", t);
  assert.deepEqual(h.turns.map((x) => [x.start_ms, x.end_ms]), [[2000, 5000], [5000, 5000], [5000, null]]);
});

test("hand edits are checked, keep time order and forget the undo history", () => {
  const h = hearing();
  tapRole(h, "judge", 0);
  tapRole(h, "prosecutor", 5000);
  tapRole(h, "defense", 9000);
  pauseTurn(h, 12000);
  assert.equal(checkTurn(h, 1, { role: "nobody", start_ms: 5000, end_ms: 9000 }, ROLES), "Choose a role.");
  assert.match(checkTurn(h, 1, { role: "prosecutor", start_ms: 9000, end_ms: 8000 }, ROLES), /before the start/);
  assert.match(checkTurn(h, 1, { role: "prosecutor", start_ms: 4000, end_ms: 9000 }, ROLES), /overlaps the Judge turn/);
  assert.match(checkTurn(h, 0, { role: "judge", start_ms: 0, end_ms: null }, ROLES), /Only the last turn/);
  assert.equal(checkTurn(h, 1, { role: "defense", start_ms: 5000, end_ms: 9000 }, ROLES), null);
  replaceTurn(h, 2, { role: "defense", start_ms: 13000, end_ms: 14000 });
  replaceTurn(h, 1, { role: "judge", start_ms: 5000, end_ms: 9000 });
  assert.deepEqual(h.turns.map((x) => x.role), ["judge", "judge", "defense"]);
  assert.deepEqual(h._undo, []);
  deleteTurn(h, 1);
  assert.deepEqual(h.turns.map((x) => x.start_ms), [0, 13000]);
});

test("durations read and print as minutes:seconds", () => {
  assert.equal(formatMs(65_400), "1:05");
  assert.equal(formatMs(3_725_000), "1:02:05");
  assert.equal(parseDuration("1:05"), 65_000);
  assert.equal(parseDuration("90"), 90_000);
  assert.equal(parseDuration("1:75"), null);
  assert.equal(parseDuration("soon"), null);
});

test("show_if follows definition.py: equals, any_of, lists, session answers, hidden parents", () => {
  const byKey = new Map();
  const q = (key, show_if) => {
    const question = { key, type: "yes_no", show_if };
    byKey.set(key, question);
    return question;
  };
  const components = q("sentence_components");
  const jail = q("jail_days", { question: "sentence_components", equals: "jail" });
  const stayed = q("stayed", { question: "jail_days", equals: 0 });
  const nco = q("nco_explained", { question: "no_contact_order", any_of: ["ordered", "continued"] });
  const sessionDependent = q("s", { question: "could_hear", equals: "well" });
  assert.equal(isVisible(components, {}, { byKey }), true);
  assert.equal(isVisible(jail, {}, { byKey }), false);
  assert.equal(isVisible(jail, { sentence_components: ["probation", "jail"] }, { byKey }), true);
  assert.equal(isVisible(stayed, { jail_days: 0 }, { byKey }), false, "its parent is hidden");
  assert.equal(isVisible(stayed, { jail_days: 0, sentence_components: ["jail"] }, { byKey }), true);
  assert.equal(isVisible(stayed, { jail_days: false, sentence_components: ["jail"] }, { byKey }), false);
  assert.equal(isVisible(nco, { no_contact_order: "continued" }, { byKey }), true);
  assert.equal(isVisible(nco, { no_contact_order: "lifted" }, { byKey }), false);
  assert.equal(isVisible(sessionDependent, {}, { outer: { could_hear: "well" }, byKey }), true);
  assert.equal(isEmpty([]), false, "an empty list is an answer: none of these");
  assert.equal(isEmpty("  "), true);
});

// ---- wrong clocks ----------------------------------------------------------------------------

import { PAGE_ID } from "../../../app/static/js/dom.js";

function withWallShift(shift, fn) {
  const real = Date.now;
  Date.now = () => real() + shift;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

function openHearing(offsetMs) {
  // Started offsetMs ago on this page's monotonic clock, wall clock agreeing.
  const mono = performance.timeOrigin + performance.now();
  const drift = Date.now() - mono;
  return {
    id: "h", started_at: new Date(Date.now() - offsetMs).toISOString(), ended_at: null, answers: {}, turns: [],
    _clock: mono - offsetMs, _page: PAGE_ID, _drift: drift, _seen: { wall: Date.now() - offsetMs, offset: 0 }, _undo: [],
  };
}

test("a clock pulled back during a hearing: it still ends after it starts, and the jump is noted", () => {
  const h = openHearing(30_000);
  tapRole(h, "judge", offsetAt(h));
  withWallShift(-3_600_000, () => {
    const t = offsetAt(h); // monotonic: about 30 s, not minus an hour
    assert.ok(t >= 30_000 && t < 40_000, `offset ${t}`);
    endHearing(h, t);
  });
  assert.ok(Date.parse(h.ended_at) >= Date.parse(h.started_at), "ends after it starts");
  assert.ok(Date.parse(h.ended_at) - Date.parse(h.started_at) < 40_000);
  assert.ok(h.clock_jump_ms <= -3_500_000, `jump ${h.clock_jump_ms}`);
  assert.ok(h.turns[0].end_ms >= h.turns[0].start_ms);
});

test("reopened after a clock moved forward while the page was closed: offsets go on, flagged", () => {
  // Saved 10 s ago at offset 20 s, by another page life; the wall clock is now 3 h ahead.
  const h = openHearing(30_000);
  tapRole(h, "judge", 20_000);
  h._page = "an earlier page";
  h._seen = { wall: Date.now() - 10_000, offset: 20_000 };
  const t = withWallShift(3 * 3_600_000, () => offsetAt(h));
  assert.ok(t >= 20_000 && t < 25_000, `offset ${t}`); // not three hours
  assert.ok(h.clock_jump_ms >= 3 * 3_600_000 - 20_000, `jump ${h.clock_jump_ms}`);
  assert.equal(h._page, PAGE_ID);
});

test("reopened after a short break: the time away counts, nothing is flagged", () => {
  const h = openHearing(30_000);
  tapRole(h, "judge", 20_000);
  h._page = "an earlier page";
  h._seen = { wall: Date.now() - 120_000, offset: 20_000 };
  const t = offsetAt(h);
  assert.ok(t >= 140_000 && t < 145_000, `offset ${t}`);
  assert.equal(h.clock_jump_ms, undefined);
});

test("reopened with the clock pulled back: never before the last turn", () => {
  const h = openHearing(30_000);
  tapRole(h, "judge", 20_000);
  h._page = "an earlier page";
  h._seen = { wall: Date.now() + 600_000, offset: 20_000 }; // saved "in the future"
  const t = offsetAt(h);
  assert.ok(t >= 20_000 && t < 21_000, `offset ${t}`);
  assert.ok(h.clock_jump_ms <= -590_000);
});
