// The speaker timeline: tap who speaks, the clock runs, every tap is a saved turn.
//
// Clock. A hearing keeps its wall-clock start (`started_at`, as the phone reported it) and a
// monotonic base `_clock` = performance.timeOrigin + performance.now() at the start, for the page
// life `_page` that set it. Offsets are (timeOrigin + now) − _clock: monotonic while the page
// lives, whatever the wall clock does; the hearing's end is its start plus the monotonic offset,
// so it never ends before it starts. A wall clock that moves while a hearing is open (set by
// hand, a time zone, a network correction) is noted as `clock_jump_ms` for staff.
//
// Resume. A new page life (a reload, the tab reopened) has no monotonic link to the old one:
// the offset continues from the last saved point `_seen` {wall, offset} plus the wall-clock time
// since. When that gap is impossible (the clock went back) or implausible for a hearing left
// open (over RESUME_LIMIT_MS: a clock moved forward), the offset continues from the saved point
// alone and the jump is noted. Offsets never go backwards (clamped to the last recorded one).
//
import { clear, formatMs, h, PAGE_ID, parseDuration } from "./dom.js";
import { t, tn } from "./i18n.js";

const UNDO_DEPTH = 50;
const RESUME_LIMIT_MS = 90 * 60_000;
const JUMP_MS = 60_000;

export function nowEpoch() {
  return performance.timeOrigin + performance.now();
}

/** Wall clock minus monotonic clock: constant while the wall clock is left alone. */
function drift() {
  return Date.now() - nowEpoch();
}

function noteJump(hearing, ms) {
  if (Math.abs(ms) < JUMP_MS) return;
  hearing.clock_jump_ms = (hearing.clock_jump_ms || 0) + Math.round(ms);
}

/** The hearing's monotonic base on this page, worked out once per page life (see Resume). */
function clockBase(hearing) {
  if (typeof hearing._clock === "number" && (hearing._page === PAGE_ID || hearing._page === undefined)) return hearing._clock;
  const seen = hearing._seen;
  let offset;
  if (seen && typeof seen.wall === "number" && typeof seen.offset === "number") {
    const gap = Date.now() - seen.wall;
    if (gap < -1000 || gap > RESUME_LIMIT_MS) {
      noteJump(hearing, gap);
      offset = seen.offset;
    } else offset = seen.offset + Math.max(0, gap);
  } else {
    const wall = Date.parse(hearing.started_at || "");
    offset = Number.isNaN(wall) ? 0 : Math.max(0, Date.now() - wall);
  }
  hearing._clock = nowEpoch() - Math.max(offset, lastMark(hearing));
  hearing._page = PAGE_ID;
  hearing._drift = drift();
  return hearing._clock;
}

/** Remember where the hearing stands (for a resume) and note a wall clock that moved. */
export function markSeen(hearing, t) {
  clockBase(hearing);
  const now = drift();
  if (typeof hearing._drift === "number") noteJump(hearing, now - hearing._drift);
  hearing._drift = now;
  hearing._seen = { wall: Date.now(), offset: t };
}

export function lastMark(hearing) {
  let mark = 0;
  for (const turn of hearing.turns || []) mark = Math.max(mark, turn.end_ms ?? turn.start_ms);
  return mark;
}

/** Milliseconds since the hearing started, at `epoch` (default now), never before the last turn. */
export function offsetAt(hearing, epoch = nowEpoch()) {
  return Math.max(Math.round(epoch - clockBase(hearing)), lastMark(hearing), 0);
}

export function currentTurn(hearing) {
  const turns = hearing.turns || [];
  const last = turns[turns.length - 1];
  return last && (last.end_ms === null || last.end_ms === undefined) ? last : null;
}

function pushUndo(hearing, op) {
  hearing._undo = [...(hearing._undo || []), op].slice(-UNDO_DEPTH);
}

/** A tap on a role button at offset `t`. Returns false when nothing changes. */
export function tapRole(hearing, role, t) {
  const current = currentTurn(hearing);
  if (current && current.role === role) return false;
  hearing.turns = hearing.turns || [];
  const op = { kind: "tap", closed: null, reopened: null };
  if (current) {
    current.end_ms = Math.max(t, current.start_ms);
    op.closed = hearing.turns.length - 1;
  }
  if (hearing.ended_at) {
    op.reopened = hearing.ended_at; // logging again after "end hearing" resumes the hearing
    hearing.ended_at = null;
  }
  hearing.turns.push({ role, start_ms: t, end_ms: null });
  pushUndo(hearing, op);
  markSeen(hearing, t);
  return true;
}

export function pauseTurn(hearing, t) {
  const current = currentTurn(hearing);
  if (!current) return false;
  current.end_ms = Math.max(t, current.start_ms);
  pushUndo(hearing, { kind: "pause", closed: hearing.turns.length - 1 });
  markSeen(hearing, t);
  return true;
}

export function undoLast(hearing) {
  const stack = hearing._undo || [];
  const op = stack[stack.length - 1];
  if (!op) return false;
  hearing._undo = stack.slice(0, -1);
  if (op.kind === "tap") {
    hearing.turns.pop();
    if (op.closed !== null && hearing.turns[op.closed]) hearing.turns[op.closed].end_ms = null;
    if (op.reopened) hearing.ended_at = op.reopened;
  } else if (op.kind === "pause" && hearing.turns[op.closed]) {
    hearing.turns[op.closed].end_ms = null;
  }
  return true;
}

/** Close the open turn and mark the hearing ended (Next hearing, End hearing). */
export function endHearing(hearing, t) {
  const current = currentTurn(hearing);
  if (current) current.end_ms = Math.max(t, current.start_ms);
  markSeen(hearing, t);
  // Start plus the monotonic time since: never before the start, whatever the wall clock did.
  const start = Date.parse(hearing.started_at || "");
  const end = Number.isNaN(start) ? new Date() : new Date(start + Math.max(t, lastMark(hearing)));
  hearing.ended_at = end.toISOString();
  hearing._undo = [];
  return true;
}

/** Check a hand-edited turn; returns an error message or null. */
export function checkTurn(hearing, index, { role, start_ms, end_ms }, roles) {
  if (!roles.some((r) => r.key === role)) return t("Choose a role.");
  if (start_ms === null) return t("Write the start as minutes:seconds, e.g. 1:05.");
  if (end_ms === undefined) return t("Write the end as minutes:seconds, e.g. 1:40.");
  const isLast = index === hearing.turns.length - 1;
  if (end_ms === null && !isLast) return t("Only the last turn can still be running: give it an end.");
  if (end_ms !== null && end_ms < start_ms) return t("The end must not be before the start.");
  // Turns follow each other (the server refuses overlaps): check against the neighbours.
  const others = hearing.turns.filter((_, i) => i !== index);
  for (const other of others) {
    const otherEnd = other.end_ms ?? Infinity;
    const end = end_ms ?? Infinity;
    if (start_ms < otherEnd && other.start_ms < end) {
      const name = (roles.find((r) => r.key === other.role) || { label: other.role }).label;
      return t("This overlaps the {role} turn at {start}: turns follow each other.", { role: name, start: formatMs(other.start_ms) });
    }
  }
  if (end_ms === null && others.some((o) => o.start_ms >= start_ms)) return t("Only the last turn can still be running: give it an end.");
  return null;
}

export function replaceTurn(hearing, index, turn) {
  hearing.turns[index] = { role: turn.role, start_ms: turn.start_ms, end_ms: turn.end_ms };
  hearing.turns.sort((a, b) => a.start_ms - b.start_ms);
  hearing._undo = [];
  return true;
}

export function deleteTurn(hearing, index) {
  if (!hearing.turns[index]) return false;
  hearing.turns.splice(index, 1);
  hearing._undo = [];
  return true;
}

/** The speaker timeline on screen: the clock bar, the tap pad and the editable turn list. */
export class TimelineView {
  constructor({ roles, readOnly, title, onTap, onPause, onUndo, onReplace, onDelete, onNext }) {
    this.roles = roles;
    this.byKey = new Map(roles.map((r) => [r.key, r]));
    this.readOnly = readOnly;
    this.handlers = { onTap, onPause, onUndo, onReplace, onDelete, onNext };
    this.hearing = null;
    this.editing = null;
    this.editEl = null;

    this.clockText = h("span", { class: "clock-time", "aria-hidden": "true" }, "0:00");
    this.speakerText = h("span", { class: "clock-speaker" }, t("No one speaking"));
    this.turnClock = h("span", { class: "clock-turn", "aria-hidden": "true" });
    // Announced on change only (the clock itself would chatter).
    this.live = h("span", { class: "visually-hidden", "aria-live": "polite" });
    this.padToggle = h(
      "button",
      { type: "button", class: "pad-btn pad-toggle", "data-action": "toggle-pad", "aria-expanded": "true", "aria-controls": "pad-roles", onclick: () => this.togglePad() },
      t("Hide pad"),
    );
    // Next hearing: always in the bar, one tap, no scrolling; it ends this hearing.
    this.nextButton = onNext && !readOnly
      ? h("button", { type: "button", class: "btn btn-primary clock-next", "data-action": "next-hearing", onclick: (event) => this.handlers.onNext(event.timeStamp) }, t("Next hearing"))
      : null;
    this.clockBar = h(
      "div",
      { class: "clock-bar", "data-testid": "clock-bar" },
      h("span", { class: "clock-title" }, title),
      this.clockText,
      h("span", { class: "clock-now" }, h("span", { class: "swatch", "aria-hidden": "true" }), this.speakerText, this.turnClock),
      this.nextButton,
      this.live,
    );

    this.roleButtons = new Map();
    const grid = h("div", { class: "pad-roles" });
    for (const role of roles) {
      const button = h(
        "button",
        {
          type: "button",
          class: "role-tap",
          "data-role": role.key,
          "aria-pressed": "false",
          onclick: (event) => this.handlers.onTap(role.key, event.timeStamp),
        },
        h("span", { class: "swatch", "aria-hidden": "true" }),
        role.label,
      );
      button.style.setProperty("--role", role.colour || "#7cc4ff");
      this.roleButtons.set(role.key, button);
      grid.append(button);
    }
    this.pauseButton = h(
      "button",
      { type: "button", class: "pad-btn", "data-action": "pause", onclick: (event) => this.handlers.onPause(event.timeStamp) },
      t("Pause"),
    );
    this.undoButton = h(
      "button",
      { type: "button", class: "pad-btn", "data-action": "undo", onclick: () => this.handlers.onUndo() },
      t("Undo"),
    );
    grid.append(this.pauseButton, this.undoButton);
    grid.id = "pad-roles";
    // The last few turns, one line of fixed height: a tap changes its text, never the layout.
    this.recent = h("ol", { class: "pad-recent", "aria-label": t("Latest turns") });
    this.pad = h(
      "div",
      { class: "pad", id: "tap-pad", role: "group", "aria-label": t("Who is speaking") },
      h("div", { class: "pad-head" }, this.recent, this.padToggle),
      grid,
    );
    this.grid = grid;
    if (readOnly) this.pad.hidden = true;

    this.error = h("div", { class: "error", "data-field": "turns" });
    this.list = h("ol", { class: "turns", "aria-label": t("Turns") });
    this.summary = h("p", { class: "muted small turns-summary" });
    this.section = h("div", { class: "timeline" }, this.summary, this.error);
    // Every turn, to check and correct, below everything else: opening it pushes nothing.
    this.allSummary = h("summary", {}, t("All turns"));
    this.allTurns = h("details", { class: "card all-turns", "data-testid": "all-turns" }, this.allSummary, this.list);
    // Drawn only while open: a tap costs the same with 5 turns or 200.
    this.allTurns.addEventListener("toggle", () => {
      if (this.allTurns.open && this.hearing) this.renderList(this.hearing, this.errors || []);
    });
    this.timer = setInterval(() => this.tick(), 500);
  }

  destroy() {
    clearInterval(this.timer);
  }

  togglePad() {
    const open = this.grid.hidden;
    this.grid.hidden = !open;
    this.padToggle.textContent = open ? t("Hide pad") : t("Show pad");
    this.padToggle.setAttribute("aria-expanded", String(open));
  }

  tick() {
    if (!this.hearing) return;
    const hearing = this.hearing;
    const ended = Boolean(hearing.ended_at);
    const now = ended ? lastMark(hearing) : offsetAt(hearing);
    this.clockText.textContent = formatMs(now);
    const current = currentTurn(hearing);
    this.turnClock.textContent = current ? formatMs(now - current.start_ms) : "";
    if (this.runningClock) this.runningClock.textContent = current ? formatMs(now - current.start_ms) : "";
  }

  update(hearing, errors = []) {
    this.hearing = hearing;
    const current = currentTurn(hearing);
    const role = current ? this.byKey.get(current.role) : null;
    const label = current ? (role ? role.label : current.role) : hearing.ended_at ? t("Hearing ended") : hearing.turns.length ? t("Paused") : t("No one speaking yet");
    if (this.speakerText.textContent !== label) {
      this.speakerText.textContent = label;
      this.live.textContent = current ? t("{role} speaking", { role: label }) : label;
    }
    this.clockBar.style.setProperty("--role", role ? role.colour : "transparent");
    this.clockBar.dataset.current = current ? current.role : "";
    for (const [key, button] of this.roleButtons) {
      button.setAttribute("aria-pressed", String(Boolean(current && current.role === key)));
    }
    this.pauseButton.disabled = !current;
    this.undoButton.disabled = !(hearing._undo && hearing._undo.length);
    this.renderList(hearing, errors);
    this.tick();
  }

  renderList(hearing, errors) {
    const turns = hearing.turns || [];
    const talk = turns.reduce((sum, t) => sum + ((t.end_ms ?? offsetAt(hearing)) - t.start_ms), 0);
    this.summary.textContent = turns.length ? tn(turns.length, "{n} turn · {talk} of talk", "{n} turns · {talk} of talk", { talk: formatMs(talk) }) : t("No turns yet: tap who speaks below.");
    this.allSummary.textContent = turns.length ? tn(turns.length, "All {n} turn · check or correct", "All {n} turns · check or correct") : t("All turns");
    const general = errors.filter((e) => !/^turns\[\d+\]/.test(e.field));
    clear(this.error);
    for (const e of general) this.error.append(h("p", { class: "error" }, e.msg));
    this.renderRecent(turns);
    this.errors = errors;
    // Turn errors open the list so they are seen; otherwise it is drawn only while open.
    if (!this.allTurns.open && errors.some((e) => /^turns\[\d+\]/.test(e.field))) this.allTurns.open = true;
    if (!this.allTurns.open) {
      return;
    }
    // An open edit is kept as typed (a background save or sync redraws the rest).
    const keep = this.editing !== null && this.editEl && turns[this.editing] ? this.editEl : null;
    clear(this.list);
    turns.forEach((turn, index) => {
      const own = errors.filter((e) => e.field.startsWith(`turns[${index}]`));
      if (this.editing === index) {
        this.editEl = keep || this.editRow(hearing, turn, index);
        this.list.append(this.editEl);
      } else this.list.append(this.row(turn, index, own));
    });
    if (this.editing !== null && !turns[this.editing]) {
      this.editing = null;
      this.editEl = null;
    }
  }

  renderRecent(turns) {
    clear(this.recent);
    this.runningClock = null;
    const shown = turns.slice(-3);
    if (!shown.length) {
      this.recent.append(h("li", { class: "muted" }, t("No turns yet")));
      return;
    }
    for (const turn of shown) {
      const role = this.byKey.get(turn.role);
      const running = turn.end_ms === null || turn.end_ms === undefined;
      const time = h("span", { class: "muted" }, running ? "" : formatMs(turn.end_ms - turn.start_ms));
      if (running) this.runningClock = time;
      const li = h("li", { class: `recent-turn${running ? " running" : ""}` }, h("span", { class: "swatch", "aria-hidden": "true" }), role ? role.label : turn.role, " ", time);
      li.style.setProperty("--role", role ? role.colour : "#a9b4c2");
      this.recent.append(li);
    }
  }

  /** What an open turn edit holds, to carry over a full redraw (restoreEdit). */
  editState() {
    if (this.editing === null || !this.editEl) return null;
    const value = (suffix) => this.editEl.querySelector(`[id$="-${suffix}"]`)?.value;
    return { index: this.editing, role: value("role"), start: value("start"), end: value("end") };
  }

  restoreEdit(state) {
    if (!state || !this.hearing || !this.hearing.turns[state.index]) return;
    this.startEdit(state.index);
    const set = (suffix, v) => {
      const el = this.editEl && this.editEl.querySelector(`[id$="-${suffix}"]`);
      if (el && v !== undefined) el.value = v;
    };
    set("role", state.role);
    set("start", state.start);
    set("end", state.end);
  }

  row(turn, index, errors) {
    const role = this.byKey.get(turn.role);
    const label = role ? role.label : turn.role;
    const running = turn.end_ms === null || turn.end_ms === undefined;
    const li = h(
      "li",
      { class: `turn${running ? " running" : ""}`, "data-role": turn.role },
      h("span", { class: "swatch", "aria-hidden": "true" }),
      h(
        "span",
        { class: "turn-text" },
        h("strong", {}, label),
        " ",
        h("span", { class: "muted" }, `${formatMs(turn.start_ms)} – ${running ? t("now") : formatMs(turn.end_ms)}`),
      ),
      this.readOnly
        ? null
        : h(
            "span",
            { class: "turn-actions" },
            h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-label": t("Edit turn {n}, {role}", { n: index + 1, role: label }), onclick: () => this.startEdit(index) }, t("Edit")),
            h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-label": t("Delete turn {n}, {role}", { n: index + 1, role: label }), onclick: () => this.handlers.onDelete(index) }, t("Delete")),
          ),
      errors.map((e) => h("p", { class: "error" }, e.msg)),
    );
    li.style.setProperty("--role", role ? role.colour : "#a9b4c2");
    return li;
  }

  startEdit(index) {
    this.editing = index;
    this.editEl = null;
    this.allTurns.open = true;
    this.renderList(this.hearing, []);
    const first = this.list.querySelector(".turn-edit select");
    if (first) first.focus();
  }

  editRow(hearing, turn, index) {
    const id = `turn-edit-${index}`;
    const roleSelect = h(
      "select",
      { id: `${id}-role` },
      this.roles.map((r) => h("option", { value: r.key, selected: r.key === turn.role }, r.label)),
    );
    const start = h("input", { id: `${id}-start`, value: formatMs(turn.start_ms), inputmode: "numeric", autocomplete: "off" });
    const running = turn.end_ms === null || turn.end_ms === undefined;
    const end = h("input", { id: `${id}-end`, value: running ? "" : formatMs(turn.end_ms), inputmode: "numeric", autocomplete: "off", placeholder: t("running") });
    const message = h("p", { class: "error", role: "alert" });
    const save = (event) => {
      event.preventDefault();
      const endText = end.value.trim();
      // A time left as shown keeps its exact milliseconds (the field only shows whole seconds).
      const startShown = formatMs(turn.start_ms);
      const endShown = running ? "" : formatMs(turn.end_ms);
      const candidate = {
        role: roleSelect.value,
        start_ms: start.value.trim() === startShown ? turn.start_ms : parseDuration(start.value),
        end_ms: endText === endShown ? (running ? null : turn.end_ms) : endText === "" ? null : parseDuration(endText) ?? undefined,
      };
      const problem = checkTurn(this.hearing || hearing, index, candidate, this.roles);
      if (problem) {
        message.textContent = problem;
        return;
      }
      this.editing = null;
      this.editEl = null;
      this.handlers.onReplace(index, candidate);
    };
    return h(
      "li",
      { class: "turn turn-edit" },
      h(
        "form",
        { class: "turn-form", onsubmit: save, "aria-label": t("Edit turn {n}", { n: index + 1 }) },
        h("div", { class: "field" }, h("label", { for: `${id}-role` }, t("Role")), roleSelect),
        h("div", { class: "field" }, h("label", { for: `${id}-start` }, t("Start (m:ss)")), start),
        h("div", { class: "field" }, h("label", { for: `${id}-end` }, t("End (m:ss)")), end),
        message,
        h(
          "div",
          { class: "actions tight" },
          h("button", { type: "submit", class: "btn btn-primary" }, t("Save turn")),
          h("button", { type: "button", class: "btn", onclick: () => { this.editing = null; this.editEl = null; this.renderList(this.hearing, []); } }, t("Cancel")),
        ),
      ),
    );
  }
}
