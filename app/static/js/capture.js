// The capture flow, drawn in the browser from the protocol definition kept in IndexedDB, so it
// works offline for any assignment, any published protocol and ad hoc:
//   /capture?assignment=<id>   start (or continue) the observation of an assignment
//   /capture?adhoc=1           start one without an assignment (where and when typed in)
//   /capture?observation=<id>  an observation; &view=session|hearing|review, &hearing=<id>
//   /capture                   what is on this phone
// Every tap and keystroke goes to IndexedDB (store.js) at once; outbox.js sends it.
import { append, clear, formatMs, h } from "./dom.js";
import { Debouncer, isEmpty, isVisible, questionsOf, renderQuestion, timelineRoles } from "./form.js";
import { startOutbox, onStatus, refreshStatus, syncNow } from "./outbox.js";
import { currentPack, finishSignOut, pendingSignOut, refreshPack, SignedOut, storedPack } from "./pack.js";
import { packRefresh } from "./register-sw.js";
import { browserLanguage, localizeDefinition, localizeRoles, setLanguage, t, tn } from "./i18n.js";
import * as store from "./store.js";
import { deleteTurn, endHearing, offsetAt, pauseTurn, replaceTurn, tapRole, TimelineView, undoLast } from "./timeline.js";

const root = document.getElementById("capture-root");
const statusEl = document.getElementById("sync-status");
const noticeEl = document.getElementById("notice");

const CALENDAR_TYPES = [
  ["sentencing", "Sentencing"],
  ["arraignment", "Arraignment"],
  ["pretrial", "Pre-trial"],
  ["review", "Review"],
  ["plea", "Plea"],
  ["probation_violation", "Probation violation"],
  ["other", "Other"],
];

const app = {
  pack: null,
  owner: null,
  obs: null,
  definition: null,
  protocolName: "",
  refreshers: [],
  timeline: null,
  debouncer: new Debouncer(),
  status: null,
  sheet: null,
  // Hearings whose unanswered safety and accountability questions were shown before the next.
  checked: new Set(),
};

// ---- small helpers ---------------------------------------------------------------------------

function text(value) {
  if (value && typeof value === "object") return value.name || value.label || "";
  return value === null || value === undefined ? "" : String(value);
}

function sessionTitle(info) {
  if (!info) return t("Observation");
  const place = [text(info.court), info.courtroom ? t("courtroom {room}", { room: text(info.courtroom) }) : ""].filter(Boolean).join(", ");
  return place || t("Observation");
}

/** "Judge Linda Okafor", never "Judge Judge Linda Okafor" when the name already holds a title. */
export function judgeLabel(name) {
  const value = text(name).trim();
  if (!value) return "";
  return /^(judge|hon\.?|honou?rable|justice|magistrate|referee|commissioner)\b/i.test(value) ? value : t("Judge {name}", { name: value });
}

function sessionLine(info) {
  if (!info) return "";
  const calendar = CALENDAR_TYPES.find(([key]) => key === info.calendar_type);
  return [
    text(info.session_date),
    info.start_time ? text(info.start_time).slice(0, 5) : "",
    calendar ? t(calendar[1]) : text(info.calendar_type),
    judgeLabel(info.judge),
  ]
    .filter(Boolean)
    .join(" · ");
}

function notice(message, tone = "info") {
  noticeEl.textContent = message;
  noticeEl.dataset.tone = tone;
  noticeEl.hidden = !message;
  clearTimeout(notice.timer);
  if (message) notice.timer = setTimeout(() => (noticeEl.hidden = true), 6000);
}

function hearingIndex(id) {
  return app.obs.hearings.findIndex((x) => x.id === id);
}

function readOnly() {
  return store.isReadOnly(app.obs);
}

function link(params) {
  const query = new URLSearchParams(params);
  return `/capture?${query}`;
}

function go(params, { replace = false } = {}) {
  const url = link(params);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  return route();
}

function heading(label) {
  return h("h1", { tabindex: "-1", id: "view-title" }, label);
}

/** Forget the previous view's live parts; call first thing in every view. */
function startView() {
  if (app.timeline) app.timeline.destroy();
  app.timeline = null;
  app.sheet = null;
  app.refreshers = [];
}

function mount(...children) {
  clear(root);
  append(root, children);
  root.removeAttribute("aria-busy");
}

function focusTitle() {
  const title = document.getElementById("view-title");
  if (title) title.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function errorsFor(hearingId, prefix) {
  return (app.obs.errors || []).filter((e) => (e.hearing_id || null) === (hearingId || null) && (prefix === undefined || e.field === prefix || e.field.startsWith(`${prefix}.`) || e.field.startsWith(`${prefix}[`)));
}

/** Show the server's messages in `box`; redrawn only when they change (an alert re-announces). */
function setProblems(box, messages) {
  const key = messages.join("\n");
  if (box.dataset.shown === key) return;
  box.dataset.shown = key;
  box.replaceChildren(messages.length ? h("div", { class: "alert alert-error", role: "alert" }, messages.map((m) => h("p", {}, m))) : "");
}

// ---- saving ----------------------------------------------------------------------------------

async function edit(change, options) {
  try {
    const saved = await store.editObservation(app.obs.id, change, options);
    if ((saved.rev || 0) >= (app.obs.rev || 0)) app.obs = saved;
    return saved;
  } catch (error) {
    if (error instanceof store.ReadOnlyError) {
      notice(error.message, "warn");
      route();
      return null;
    }
    notice(t("Not saved on this phone: {error}", { error: error.message }), "danger");
    throw error;
  }
}

function dropErrors(obs, hearingId, field) {
  obs.errors = (obs.errors || []).filter((e) => !((e.hearing_id || null) === (hearingId || null) && e.field === field));
}

function answerSaver(hearingId, key) {
  const debounceKey = `${hearingId || "session"}:${key}`;
  return (value, { now }) => {
    const apply = () =>
      edit((obs) => {
        const target = hearingId ? obs.hearings.find((x) => x.id === hearingId) : null;
        if (hearingId && !target) return false;
        const answers = hearingId ? target.answers : obs.session_answers;
        if (value === null) {
          if (!(key in answers)) return false;
          delete answers[key];
        } else {
          if (JSON.stringify(answers[key]) === JSON.stringify(value)) return false;
          answers[key] = value;
        }
        dropErrors(obs, hearingId, hearingId ? `answers.${key}` : `session_answers.${key}`);
      }).then(refresh);
    if (now) {
      app.debouncer.cancel(debounceKey);
      return apply();
    }
    app.debouncer.schedule(debounceKey, apply);
    return null;
  };
}

function fieldSaver(debounceKey, mutate) {
  return (value, { now }) => {
    const apply = () => edit((obs) => mutate(obs, value)).then(refresh);
    if (now) {
      app.debouncer.cancel(debounceKey);
      return apply();
    }
    app.debouncer.schedule(debounceKey, apply);
    return null;
  };
}

function refresh() {
  for (const fn of app.refreshers) fn();
}

// ---- questions -------------------------------------------------------------------------------

function questionIndex() {
  const byKey = new Map();
  for (const section of app.definition.sections || []) for (const q of section.questions || []) byKey.set(q.key, q);
  return byKey;
}

function renderSections(level, hearingId, timelineSlot) {
  const byKey = questionIndex();
  const roles = timelineRoles(app.definition, localizeRoles(app.pack.roles));
  const blocks = [];
  for (const { section, questions } of questionsOf(app.definition, level)) {
    const controls = [];
    const sectionEl = h("section", { class: "cap-section" }, h("h2", {}, section.title || ""));
    for (const q of questions) {
      if (q.type === "speaker_timeline") {
        const control = renderQuestion(q, { idPrefix: "x", roles });
        sectionEl.append(control.el);
        if (timelineSlot) control.el.append(timelineSlot);
        continue;
      }
      const answers = () => (hearingId ? app.obs.hearings.find((x) => x.id === hearingId)?.answers || {} : app.obs.session_answers);
      const control = renderQuestion(q, {
        idPrefix: hearingId ? `h${hearingIndex(hearingId) + 1}` : "s",
        value: answers()[q.key],
        roles,
        readOnly: readOnly(),
        onChange: answerSaver(hearingId, q.key),
      });
      controls.push({ q, control });
      sectionEl.append(control.el);
    }
    const update = () => {
      const answers = hearingId ? app.obs.hearings.find((x) => x.id === hearingId)?.answers || {} : app.obs.session_answers;
      const outer = hearingId ? app.obs.session_answers : null;
      let shown = 0;
      for (const { q, control } of controls) {
        const visible = isVisible(q, answers, { outer, byKey });
        control.setVisible(visible);
        if (visible) shown += 1;
        const field = hearingId ? `answers.${q.key}` : `session_answers.${q.key}`;
        control.setErrors(errorsFor(hearingId, field).map((e) => e.msg));
      }
      sectionEl.hidden = shown === 0 && !questions.some((q) => q.type === "speaker_timeline");
    };
    app.refreshers.push(update);
    blocks.push(sectionEl);
  }
  return blocks;
}

const CHECK_TAGS = ["safety", "accountability"];

function hearingAnswers(hearingId) {
  return app.obs.hearings.find((x) => x.id === hearingId)?.answers || {};
}

/** Visible questions of a hearing still unanswered (`tags`: only those with one of these). */
function unansweredOf(hearingId, { tags = null } = {}) {
  const byKey = questionIndex();
  const answers = hearingAnswers(hearingId);
  const out = [];
  for (const { questions } of questionsOf(app.definition, "hearing")) {
    for (const q of questions) {
      if (q.type === "speaker_timeline" || !isVisible(q, answers, { outer: app.obs.session_answers, byKey })) continue;
      if (tags && !(q.tags || []).some((t) => tags.includes(t))) continue;
      if (isEmpty(answers[q.key])) out.push(q);
    }
  }
  return out;
}

/** The hearing's questions by section, one section open at a time, each naming how many of its
 * questions are still unanswered; the speaker timeline's section stays a plain line. */
function hearingSections(hearingId, timelineSlot) {
  const byKey = questionIndex();
  const roles = timelineRoles(app.definition, localizeRoles(app.pack.roles));
  const blocks = [];
  const faulty = new Set(errorsFor(hearingId).map((e) => (/^answers\.([^.[]+)/.exec(e.field) || [])[1]).filter(Boolean));
  const sections = questionsOf(app.definition, "hearing").filter(({ questions }) => !questions.every((q) => q.type === "speaker_timeline"));
  const opened = (sections.find(({ questions }) => questions.some((q) => faulty.has(q.key))) || sections[0] || {}).section;
  for (const { section, questions } of questionsOf(app.definition, "hearing")) {
    if (questions.every((q) => q.type === "speaker_timeline")) {
      if (timelineSlot) blocks.push(h("div", { class: "cap-timeline-line" }, timelineSlot));
      continue;
    }
    const controls = [];
    const left = h("span", { class: "acc-left" });
    const body = h("div", { class: "acc-body" });
    const sectionEl = h(
      "details",
      { class: "cap-acc", name: `sections-${hearingId}`, open: section === opened, "data-section": section.key || "" },
      h("summary", {}, h("span", { class: "acc-title" }, section.title || ""), left),
      body,
    );
    for (const q of questions) {
      if (q.type === "speaker_timeline") continue;
      const control = renderQuestion(q, {
        idPrefix: `h${hearingIndex(hearingId) + 1}`,
        value: hearingAnswers(hearingId)[q.key],
        roles,
        readOnly: readOnly(),
        onChange: answerSaver(hearingId, q.key),
      });
      controls.push({ q, control });
      body.append(control.el);
    }
    const update = () => {
      const answers = hearingAnswers(hearingId);
      let shown = 0;
      let open = 0;
      let errors = 0;
      for (const { q, control } of controls) {
        const visible = isVisible(q, answers, { outer: app.obs.session_answers, byKey });
        control.setVisible(visible);
        const own = errorsFor(hearingId, `answers.${q.key}`).map((e) => e.msg);
        control.setErrors(own);
        errors += own.length;
        if (!visible) continue;
        shown += 1;
        if (isEmpty(answers[q.key])) open += 1;
      }
      sectionEl.hidden = shown === 0;
      left.textContent = errors ? tn(errors, "{n} problem", "{n} problems") : open ? t("{n} to answer", { n: open }) : t("done");
      left.dataset.state = errors ? "error" : open ? "open" : "done";
    };
    app.refreshers.push(update);
    blocks.push(sectionEl);
  }
  return blocks;
}

/** Controls for these questions of a hearing, saved as they are tapped (the check before the
 * next hearing, and the review). */
function quickAnswers(hearingId, questions, idPrefix) {
  const roles = timelineRoles(app.definition, localizeRoles(app.pack.roles));
  return questions.map(
    (q) =>
      renderQuestion(q, {
        idPrefix,
        value: hearingAnswers(hearingId)[q.key],
        roles,
        readOnly: readOnly(),
        onChange: answerSaver(hearingId, q.key),
      }).el,
  );
}

function missingAnswers(level, answers, outer, hearing) {
  const byKey = questionIndex();
  const missing = [];
  for (const { questions } of questionsOf(app.definition, level)) {
    for (const q of questions) {
      if (!q.required || !isVisible(q, answers, { outer, byKey })) continue;
      if (q.type === "speaker_timeline") {
        if (hearing && !hearing.turns.length) missing.push(q);
      } else if (isEmpty(answers[q.key])) missing.push(q);
    }
  }
  return missing;
}

// ---- views -----------------------------------------------------------------------------------

/** The reviewer's comment while an observation is sent back for correction (until resubmitted). */
function sentBack(obs) {
  return obs.review && obs.review.state === "has_issues" && obs.status !== "submitted" ? obs.review.comment || "" : null;
}

function reviewNote() {
  const comment = sentBack(app.obs);
  if (comment === null) return null;
  return h(
    "div",
    { class: "card review-note", role: "note", "data-review-comment": "" },
    h("strong", {}, t("Sent back to you: ")),
    h("span", { class: "free-text" }, comment),
    h("p", { class: "muted small" }, t("Fix what is asked, then Review and submit again.")),
  );
}

function headerCard() {
  const info = app.obs.session_info || app.obs.court;
  const badge = readOnly()
    ? h("span", { class: "badge badge-ok" }, t("Submitted"))
    : app.obs.submitRefused
      ? h("span", { class: "badge badge-danger" }, t("Submit refused"))
      : h("span", { class: "badge badge-info" }, t("Draft"));
  return h(
    "div",
    { class: "cap-head" },
    h("p", { class: "muted small" }, app.protocolName, " ", badge),
    heading(sessionTitle(info)),
    h("p", { class: "muted" }, sessionLine(info)),
  );
}

function generalProblems() {
  const box = h("div", { class: "cap-problems" });
  const update = () => {
    const general = (app.obs.errors || []).filter((e) => !e.hearing_id && !e.field.startsWith("session_answers."));
    const messages = [];
    if (store.needsFix(app.obs) || app.obs.submitRefused) messages.push(app.obs.reason || t("The server could not accept this observation."));
    for (const e of general) messages.push(e.field ? `${e.field}: ${e.msg}` : e.msg);
    const hearingsWithErrors = new Set((app.obs.errors || []).filter((e) => e.hearing_id).map((e) => e.hearing_id));
    if (hearingsWithErrors.size) messages.push(tn(hearingsWithErrors.size, "See the hearing marked below.", "See the {n} hearings marked below."));
    setProblems(box, messages);
  };
  app.refreshers.push(update);
  return box;
}

function courtEditor() {
  const court = app.obs.court || {};
  const ro = readOnly();
  const input = (key, label, attrs = {}) => {
    const id = `court-${key}`;
    const el = h(attrs.tag || "input", { id, value: court[key] || "", readOnly: ro, disabled: attrs.tag === "select" && ro, ...attrs.props }, attrs.children);
    const save = fieldSaver(`court:${key}`, (obs, value) => {
      obs.court = { ...(obs.court || {}), [key]: value || null };
      obs.session_info = { ...obs.court };
      dropErrors(obs, null, `court.${key}`);
    });
    el.addEventListener("input", () => save(el.value.trim(), { now: false }));
    el.addEventListener("change", () => save(el.value.trim(), { now: true }));
    return h("div", { class: "field" }, h("label", { for: id }, label), el);
  };
  return h(
    "details",
    { class: "card cap-court" },
    h("summary", {}, t("Where and when")),
    input("court", t("Court")),
    input("courtroom", t("Courtroom")),
    input("session_date", t("Date"), { props: { type: "date" } }),
    input("start_time", t("Scheduled start"), { props: { type: "time" } }),
    input("judge", t("Presiding judge (a public official)")),
    input("calendar_type", t("Calendar"), {
      tag: "select",
      children: CALENDAR_TYPES.map(([value, label]) => h("option", { value, selected: value === court.calendar_type }, t(label))),
    }),
  );
}

function hearingsList() {
  const list = h("ol", { class: "hearing-list" });
  const update = () => {
    clear(list);
    app.obs.hearings.forEach((hearing, index) => {
      const problems = errorsFor(hearing.id);
      const talk = hearing.turns.reduce((sum, t) => sum + ((t.end_ms ?? t.start_ms) - t.start_ms), 0);
      list.append(
        h(
          "li",
          { class: `hearing-item${problems.length ? " has-error" : ""}`, "data-hearing": hearing.id },
          h(
            "a",
            { href: link({ observation: app.obs.id, view: "hearing", hearing: hearing.id }), class: "hearing-link", onclick: navigate },
            h("strong", {}, t("Hearing {n}", { n: index + 1 })),
            hearing.case_reference ? h("span", {}, ` · ${hearing.case_reference}`) : null,
            h("span", { class: "muted small" }, ` · ${tn(hearing.turns.length, "{n} turn", "{n} turns")} · ${formatMs(talk)}${hearing.ended_at ? "" : ` · ${t("in progress")}`}`),
          ),
          problems.length ? h("ul", { class: "hearing-problems" }, problems.map((e) => h("li", { class: "error" }, problemText(e)))) : null,
        ),
      );
    });
    if (!app.obs.hearings.length) list.append(h("li", { class: "muted" }, t("No hearings yet.")));
  };
  app.refreshers.push(update);
  return list;
}

function problemText(error) {
  const byKey = questionIndex();
  const match = /^(?:session_)?answers\.([^.[]+)/.exec(error.field);
  if (match && byKey.get(match[1])) return `${byKey.get(match[1]).label}: ${error.msg}`;
  if (error.field === "case_reference") return t("Case reference: {error}", { error: error.msg });
  const turn = /^turns\[(\d+)\]/.exec(error.field);
  if (turn) return t("Turn {n}: {error}", { n: Number(turn[1]) + 1, error: error.msg });
  return error.msg;
}

function navigate(event) {
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button) return;
  event.preventDefault();
  app.debouncer.flush().then(() => {
    history.pushState(null, "", event.currentTarget.href);
    route();
  });
}

function notesField() {
  const id = "obs-notes";
  const area = h("textarea", { id, rows: 4, maxlength: 20000, value: app.obs.notes || "", readOnly: readOnly(), "aria-describedby": "obs-notes-help" });
  const save = fieldSaver("notes", (obs, value) => {
    if ((obs.notes || "") === value) return false;
    obs.notes = value;
  });
  area.addEventListener("input", () => save(area.value, { now: false }));
  area.addEventListener("change", () => save(area.value, { now: true }));
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, t("General notes")),
    h("p", { class: "help", id: "obs-notes-help" }, t("Do not write the names of victims, witnesses or anyone other than public officials.")),
    area,
  );
}

function backupCard() {
  return h(
    "section",
    { class: "card cap-phone" },
    h("h2", {}, t("This phone")),
    h(
      "p",
      { class: "muted small" },
      t("Everything is saved on this phone as you go. A backup file holds what is not yet on the server; import it from any computer on "),
      h("a", { href: "/backup" }, t("Import a backup")),
      " (or ask an admin to).",
    ),
    h("button", { type: "button", class: "btn", onclick: downloadBackup }, t("Download backup")),
  );
}

function renderSession() {
  startView();
  const ro = readOnly();
  // The sitting's own questions come before the hearings; later session sections (the
  // end-of-sitting debrief) after them, where the volunteer is when the calendar is done.
  const sessionBlocks = renderSections("session", null, null);
  const sessionSections = questionsOf(app.definition, "session").map(({ section }) => section);
  const isDebrief = (section, i) => (section.when ? section.when === "end" : i > 0);
  const before = sessionBlocks.filter((_, i) => !isDebrief(sessionSections[i], i));
  const after = sessionBlocks.filter((_, i) => isDebrief(sessionSections[i], i));
  const actions = ro
    ? h("div", { class: "actions" }, h("a", { class: "btn", href: link({ observation: app.obs.id, view: "review" }), onclick: navigate }, t("Summary")))
    : h(
        "div",
        { class: "actions cap-actions" },
        h("button", { type: "button", class: "btn btn-primary btn-big", onclick: () => newHearing() }, t("New hearing")),
        h("a", { class: "btn", href: link({ observation: app.obs.id, view: "review" }), onclick: navigate }, t("Review and submit")),
      );
  mount(
    h(
      "nav",
      { class: "cap-crumbs", "aria-label": t("Capture") },
      h("a", { href: "/my/assignments" }, t("‹ My assignments")),
      h("a", { href: "/capture", onclick: navigate }, t("On this phone")),
    ),
    headerCard(),
    reviewNote(),
    ro ? h("p", { class: "card" }, t("This observation was submitted. It can no longer be changed.")) : null,
    generalProblems(),
    app.obs.assignment_id ? null : courtEditor(),
    before,
    h("section", { class: "cap-section" }, h("h2", {}, t("Hearings")), hearingsList(), actions),
    after.length ? h("p", { class: "muted small cap-debrief-note" }, t("After the last hearing:")) : null,
    after,
    h("section", { class: "cap-section" }, h("h2", {}, t("Notes")), notesField()),
    backupCard(),
  );
  refresh();
}

function renderHearing(hearingId) {
  const index = hearingIndex(hearingId);
  if (index < 0) return go({ observation: app.obs.id }, { replace: true });
  startView();
  const ro = readOnly();
  const roles = timelineRoles(app.definition, localizeRoles(app.pack.roles));
  const hasTimeline = (app.definition.sections || []).some((s) => (s.questions || []).some((q) => q.type === "speaker_timeline"));
  const hearing = () => app.obs.hearings.find((x) => x.id === hearingId);
  app.sheet = h("section", { class: "cap-sheet", hidden: true, role: "dialog", "aria-modal": "false", "aria-labelledby": "sheet-title" });
  // A tap changes the turns only: redraw the timeline, not every question (keeps a tap cheap).
  const redrawTimeline = () => {
    const current = hearing();
    if (current && app.timeline === timeline) timeline.update(current, errorsFor(hearingId, "turns"));
  };

  const timeline = new TimelineView({
    roles,
    readOnly: ro,
    title: t("Hearing {n}", { n: index + 1 }),
    onTap: (role, stamp) => {
      const epoch = performance.timeOrigin + stamp;
      return edit(
        (obs) => {
          const target = obs.hearings.find((x) => x.id === hearingId);
          return target ? tapRole(target, role, offsetAt(target, epoch)) : false;
        },
        { mark: "cw-turn-saved", markDetail: { tapAt: stamp } },
      ).then(redrawTimeline);
    },
    onPause: (stamp) => {
      const epoch = performance.timeOrigin + stamp;
      return edit((obs) => {
        const target = obs.hearings.find((x) => x.id === hearingId);
        return target ? pauseTurn(target, offsetAt(target, epoch)) : false;
      }).then(redrawTimeline);
    },
    onUndo: () =>
      edit((obs) => {
        const target = obs.hearings.find((x) => x.id === hearingId);
        return target ? undoLast(target) : false;
      }).then(redrawTimeline),
    onReplace: (turnIndex, turn) =>
      edit((obs) => {
        const target = obs.hearings.find((x) => x.id === hearingId);
        if (!target) return false;
        target.turns.length > turnIndex && replaceTurn(target, turnIndex, turn);
        obs.errors = (obs.errors || []).filter((e) => !(e.hearing_id === hearingId && e.field.startsWith("turns")));
      }).then(refresh),
    onDelete: (turnIndex) => {
      const removed = hearing() && hearing().turns[turnIndex] ? { ...hearing().turns[turnIndex] } : null;
      return edit((obs) => {
        const target = obs.hearings.find((x) => x.id === hearingId);
        return target ? deleteTurn(target, turnIndex) : false;
      }).then(() => {
        refresh();
        if (!removed) return;
        const label = (roles.find((r) => r.key === removed.role) || { label: removed.role }).label;
        undoable(t("Turn {n} ({role}, {start}) deleted.", { n: turnIndex + 1, role: label, start: formatMs(removed.start_ms) }), () =>
          edit((obs) => {
            const target = obs.hearings.find((x) => x.id === hearingId);
            if (!target) return false;
            target.turns.splice(Math.min(turnIndex, target.turns.length), 0, removed);
            target.turns.sort((a, b) => a.start_ms - b.start_ms);
            target._undo = [];
          }).then(refresh),
        );
      });
    },
    onNext: (stamp) => nextHearing(hearingId, stamp),
  });
  app.timeline = timeline;

  const caseRef = h("input", {
    id: "case-reference",
    value: hearing().case_reference || "",
    maxlength: 80,
    autocomplete: "off",
    autocapitalize: "characters",
    readOnly: ro,
    "aria-describedby": "case-reference-help case-reference-error",
  });
  const caseErrors = h("div", { class: "q-error", id: "case-reference-error" });
  const saveRef = fieldSaver(`${hearingId}:case_reference`, (obs, value) => {
    const target = obs.hearings.find((x) => x.id === hearingId);
    if (!target || (target.case_reference || "") === value) return false;
    target.case_reference = value || null;
    dropErrors(obs, hearingId, "case_reference");
  });
  caseRef.addEventListener("input", () => saveRef(caseRef.value, { now: false }));
  caseRef.addEventListener("change", () => saveRef(caseRef.value, { now: true }));

  const problems = h("div", { class: "cap-problems" });
  const nav = h(
    "nav",
    { class: "cap-crumbs", "aria-label": t("Observation") },
    h("a", { href: link({ observation: app.obs.id }), onclick: navigate }, t("‹ Session")),
    h("span", { class: "muted" }, ` · ${t("Hearing {n} of {total}", { n: index + 1, total: app.obs.hearings.length })}`),
  );
  const actions = ro
    ? null
    : h(
        "div",
        { class: "actions cap-actions" },
        hasTimeline ? null : h("button", { type: "button", class: "btn btn-primary btn-big", "data-action": "next-hearing", onclick: (e) => nextHearing(hearingId, e.timeStamp) }, t("Next hearing")),
        h("button", { type: "button", class: "btn", onclick: (e) => finishHearing(hearingId, e.timeStamp) }, t("End hearing (last of the sitting)")),
        h("button", { type: "button", class: "btn btn-danger", onclick: () => removeHearing(hearingId) }, t("Delete hearing")),
      );

  mount(
    hasTimeline ? timeline.clockBar : null,
    nav,
    heading(t("Hearing {n}", { n: index + 1 })),
    problems,
    h(
      "div",
      { class: "field" },
      h("label", { for: "case-reference" }, t("Case reference")),
      h("p", { class: "help", id: "case-reference-help" }, t("The docket number, if you can see it (public record). Optional.")),
      caseRef,
      caseErrors,
    ),
    hearingSections(hearingId, hasTimeline ? timeline.section : null),
    actions,
    hasTimeline ? timeline.allTurns : null,
    hasTimeline && !ro ? timeline.pad : null,
    app.sheet,
  );
  app.refreshers.push(() => {
    const current = hearing();
    if (!current) return;
    const own = errorsFor(hearingId);
    timeline.update(current, errorsFor(hearingId, "turns"));
    caseErrors.replaceChildren(...errorsFor(hearingId, "case_reference").map((e) => h("p", { class: "error" }, e.msg)));
    const loose = own.filter((e) => !e.field.startsWith("answers.") && !e.field.startsWith("turns") && e.field !== "case_reference");
    const messages = loose.map((e) => e.msg);
    if (own.length) messages.unshift(tn(own.length, "The server could not accept this hearing: {n} problem marked below.", "The server could not accept this hearing: {n} problems marked below."));
    setProblems(problems, messages);
  });
  refresh();
}

function renderReview() {
  startView();
  const ro = readOnly();
  const sessionMissing = missingAnswers("session", app.obs.session_answers, null, null);
  const rows = app.obs.hearings.map((hearing, index) => ({
    hearing,
    index,
    missing: missingAnswers("hearing", hearing.answers, app.obs.session_answers, hearing),
  }));
  const missingCount = sessionMissing.length + rows.reduce((n, r) => n + r.missing.length, 0);
  const hearingLink = (hearing) => link({ observation: app.obs.id, view: "hearing", hearing: hearing.id });
  const list = h(
    "ol",
    { class: "hearing-list" },
    rows.map(({ hearing, index, missing }) => {
      const problems = errorsFor(hearing.id);
      return h(
        "li",
        { class: `hearing-item${problems.length || missing.length ? " has-error" : ""}`, "data-hearing": hearing.id },
        h(
          "a",
          { href: hearingLink(hearing), onclick: navigate, class: "hearing-link" },
          h("strong", {}, t("Hearing {n}", { n: index + 1 })),
          hearing.case_reference ? ` · ${hearing.case_reference}` : "",
          h("span", { class: "muted small" }, ` · ${tn(hearing.turns.length, "{n} turn", "{n} turns")} · ${t("{n} answered", { n: Object.keys(hearing.answers).length })}`),
        ),
        missing.length ? h("p", { class: "error" }, t("Still to answer: {questions}", { questions: missing.map((q) => q.label).join("; ") })) : null,
        problems.map((e) => h("p", { class: "error" }, problemText(e))),
        checkPanel(hearing, index, ro),
      );
    }),
  );
  const confirmBox = h("div", { class: "card", hidden: true, role: "alertdialog", "aria-labelledby": "confirm-title" });
  const submitButton = h(
    "button",
    {
      type: "button",
      class: "btn btn-primary btn-big",
      disabled: missingCount > 0 || !app.obs.hearings.length,
      onclick: () => {
        confirmBox.hidden = false;
        confirmBox.querySelector("button").focus();
      },
    },
    t("Submit observation"),
  );
  confirmBox.append(
    h("p", { id: "confirm-title" }, t("Submit now? After submitting you can no longer change this observation.")),
    h(
      "div",
      { class: "actions tight" },
      h("button", { type: "button", class: "btn btn-primary", onclick: submitObservation }, t("Yes, submit")),
      h("button", { type: "button", class: "btn", onclick: () => (confirmBox.hidden = true) }, t("Not yet")),
    ),
  );
  const syncLine = h("p", { class: "muted", "data-testid": "review-sync" });
  app.refreshers.push(() => {
    syncLine.textContent = store.isUnsynced(app.obs)
      ? store.needsFix(app.obs)
        ? t("The server refused the last version: see the problems above.")
        : t("Saved on this phone, waiting to sync.")
      : t("Synced with the server.");
  });
  mount(
    h("nav", { class: "cap-crumbs", "aria-label": t("Observation") }, h("a", { href: link({ observation: app.obs.id }), onclick: navigate }, t("‹ Session"))),
    heading(ro ? t("Submitted observation") : t("Review and submit")),
    h("p", { class: "muted" }, `${sessionTitle(app.obs.session_info || app.obs.court)} · ${sessionLine(app.obs.session_info || app.obs.court)}`),
    generalProblems(),
    sessionMissing.length ? h("p", { class: "error" }, t("Session questions still to answer: "), sessionMissing.map((q) => q.label).join("; ")) : null,
    h("h2", {}, tn(app.obs.hearings.length, "{n} hearing", "{n} hearings")),
    list,
    syncLine,
    ro
      ? h("p", { class: "card" }, t("Submitted. Thank you."))
      : h(
          "div",
          { class: "actions" },
          submitButton,
          missingCount ? h("p", { class: "muted small" }, tn(missingCount, "Answer the required question listed above first.", "Answer the {n} required questions listed above first.")) : null,
          !app.obs.hearings.length ? h("p", { class: "muted small" }, t("Record at least one hearing first.")) : null,
        ),
    confirmBox,
  );
  refresh();
}

/** On the review: a hearing's safety and accountability questions still unanswered, to answer
 * right there (left alone they stay unanswered, never "not observed"). */
function checkPanel(hearing, index, ro) {
  const open = unansweredOf(hearing.id, { tags: CHECK_TAGS });
  if (!open.length || ro) return null;
  return h(
    "details",
    { class: "review-check", "data-check": hearing.id },
    h("summary", {}, tn(open.length, "{n} safety or accountability question unanswered · answer here", "{n} safety or accountability questions unanswered · answer here")),
    h("div", { class: "acc-body" }, quickAnswers(hearing.id, open, `r${index + 1}`)),
  );
}

// ---- actions ---------------------------------------------------------------------------------

/** Next hearing: ends this one and opens a new one, after showing once the safety and
 * accountability questions of this hearing still unanswered (they stay unanswered if skipped). */
function nextHearing(hearingId, stamp) {
  const sheet = app.sheet;
  const open = unansweredOf(hearingId, { tags: CHECK_TAGS });
  if (!sheet || !sheet.hidden || !open.length || app.checked.has(hearingId)) {
    if (sheet) sheet.hidden = true;
    return newHearing(hearingId, stamp);
  }
  app.checked.add(hearingId);
  const index = hearingIndex(hearingId);
  sheet.replaceChildren(
    h("h2", { id: "sheet-title", tabindex: "-1" }, t("Before hearing {n}", { n: index + 2 })),
    h("p", { class: "muted small" }, tn(open.length, "Still unanswered in hearing {hearing}: {n} safety or accountability question. Answer what you saw; what you leave stays unanswered.", "Still unanswered in hearing {hearing}: {n} safety or accountability questions. Answer what you saw; what you leave stays unanswered.", { hearing: index + 1 })),
    h("div", { class: "sheet-body" }, quickAnswers(hearingId, open, `c${index + 1}`)),
    h(
      "div",
      { class: "actions tight sheet-actions" },
      h("button", { type: "button", class: "btn btn-primary", "data-action": "sheet-next", onclick: (e) => nextHearing(hearingId, e.timeStamp) }, t("Go to hearing {n}", { n: index + 2 })),
      h("button", { type: "button", class: "btn", onclick: () => (sheet.hidden = true) }, t("Back to this hearing")),
    ),
  );
  sheet.hidden = false;
  sheet.querySelector("h2").focus({ preventScroll: true });
  return null;
}

/** A notice with an Undo button, for a destructive action already done. */
function undoable(message, undo) {
  const button = h("button", { type: "button", class: "btn btn-small notice-undo" }, t("Undo"));
  button.addEventListener("click", async () => {
    noticeEl.hidden = true;
    await undo();
    notice(t("Undone."), "ok");
  });
  noticeEl.replaceChildren(h("span", {}, message, " "), button);
  noticeEl.dataset.tone = "info";
  noticeEl.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => (noticeEl.hidden = true), 10_000);
}

async function newHearing(fromHearingId = null, stamp = performance.now()) {
  await app.debouncer.flush();
  const epoch = performance.timeOrigin + stamp;
  let createdId = null;
  await edit((obs) => {
    // One hearing runs at a time: starting the next one ends any still open.
    for (const hearing of obs.hearings) if (!hearing.ended_at) endHearing(hearing, offsetAt(hearing, epoch));
    const hearing = store.blankHearing(obs.hearings.length);
    obs.hearings.push(hearing);
    createdId = hearing.id;
  });
  if (createdId) await go({ observation: app.obs.id, view: "hearing", hearing: createdId }, { replace: Boolean(fromHearingId) });
  focusTitle();
  // For bench/capture_page.py: from the tap on Next hearing to the new hearing's pad on screen.
  requestAnimationFrame(() => performance.mark("cw-hearing-ready", { detail: { tapAt: stamp } }));
}

async function finishHearing(hearingId, stamp) {
  await app.debouncer.flush();
  const epoch = performance.timeOrigin + stamp;
  await edit((obs) => {
    const hearing = obs.hearings.find((x) => x.id === hearingId);
    if (!hearing || hearing.ended_at) return false;
    endHearing(hearing, offsetAt(hearing, epoch));
  });
  await go({ observation: app.obs.id });
  focusTitle();
}

async function removeHearing(hearingId) {
  const index = hearingIndex(hearingId);
  const hearing = app.obs.hearings[index];
  if (!hearing) return;
  if (!window.confirm(tn(hearing.turns.length, "Delete hearing {hearing} and its {n} turn? This cannot be undone.", "Delete hearing {hearing} and its {n} turns? This cannot be undone.", { hearing: index + 1 }))) return;
  app.debouncer.flush();
  await edit((obs) => {
    obs.hearings = obs.hearings.filter((x) => x.id !== hearingId);
    obs.errors = (obs.errors || []).filter((e) => e.hearing_id !== hearingId);
  });
  await go({ observation: app.obs.id }, { replace: true });
}

async function submitObservation() {
  await app.debouncer.flush();
  const byKey = questionIndex();
  const dropHidden = (answers, outer) => {
    // On submit the server refuses answers to questions an earlier answer hid.
    for (const key of Object.keys(answers)) {
      const q = byKey.get(key);
      if (q && !isVisible(q, answers, { outer, byKey })) delete answers[key];
    }
  };
  const saved = await edit((obs) => {
    for (const hearing of obs.hearings) if (!hearing.ended_at) endHearing(hearing, offsetAt(hearing));
    dropHidden(obs.session_answers, null);
    for (const hearing of obs.hearings) dropHidden(hearing.answers, obs.session_answers);
    obs.status = "submitted";
    obs.submitRefused = false;
  });
  if (!saved) return;
  notice(navigator.onLine ? t("Submitted. Sending it now…") : t("Submitted on this phone. It will be sent when you are online."), "ok");
  renderReview();
  syncNow();
}

async function downloadBackup() {
  await app.debouncer.flush();
  const body = await store.backupOf(app.owner);
  if (!body.observations.length) {
    notice(t("Everything on this phone is already on the server: nothing to back up."), "ok");
    return;
  }
  const blob = new Blob([JSON.stringify(body, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-");
  const anchor = h("a", { href: url, download: `courtwatch-backup-${stamp}.json`, hidden: true });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  notice(tn(body.observations.length, "Backup of {n} observation downloaded.", "Backup of {n} observations downloaded."), "ok");
}

// ---- opening things --------------------------------------------------------------------------

function message(title, ...body) {
  startView();
  mount(heading(title), ...body.map((b) => (typeof b === "string" ? h("p", {}, b) : b)));
}

function assignmentsLink() {
  return h("p", {}, h("a", { class: "btn", href: "/my/assignments" }, t("My assignments")));
}

async function fetchObservation(id) {
  try {
    const response = await fetch(`/api/v1/observations/${encodeURIComponent(id)}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    await store.importServerDrafts({ owner: app.owner, drafts: [await response.json()], assignments: app.pack.assignments });
    return store.getObservation(id);
  } catch (_) {
    return null;
  }
}

async function openAssignment(assignmentId) {
  let assignment = (app.pack.assignments || []).find((a) => a.id === assignmentId);
  if (!assignment && navigator.onLine) {
    try {
      app.pack = await refreshPack();
      assignment = (app.pack.assignments || []).find((a) => a.id === assignmentId);
    } catch (_) {
      /* fall through to the message */
    }
  }
  if (!assignment) {
    return message(t("Assignment not on this phone"), t("This assignment is not in the copy of your assignments kept on this phone. Open My assignments while online, then try again."), assignmentsLink());
  }
  // Started on another phone: continue that record rather than forking a second one.
  if (assignment.observation_id) {
    const known = (await store.getObservation(assignment.observation_id)) || (navigator.onLine ? await fetchObservation(assignment.observation_id) : null);
    if (known && known.owner === app.owner) return go({ observation: known.id }, { replace: true });
  }
  const device = await store.deviceId();
  const protocol = await store.getProtocol(assignment.protocol_version_id);
  const definition = protocol ? protocol.definition : null;
  const obs = await store.observationForAssignment({
    owner: app.owner,
    assignment,
    build: () => store.newObservation({ owner: app.owner, protocolVersionId: assignment.protocol_version_id, assignment, device, definition }),
  });
  return go({ observation: obs.id }, { replace: true });
}

async function openObservation(id, params) {
  let obs = await store.getObservation(id);
  if (!obs && navigator.onLine) obs = await fetchObservation(id);
  if (!obs) return message(t("Not on this phone"), t("This observation is not saved on this phone."), assignmentsLink());
  if (obs.owner !== app.owner) return message(t("Another account"), t("This observation belongs to another account that used this phone. Its owner must sign in to sync it."));
  const protocol = await store.getProtocol(obs.protocol_version_id);
  if (!protocol) return message(t("Protocol missing"), t("The form for this observation is not on this phone. Open My assignments while online, then try again."), assignmentsLink());
  app.obs = obs;
  // The protocol in the volunteer's language where it has one (keys and values are the same).
  app.definition = localizeDefinition(protocol.definition || { sections: [] });
  app.protocolName = `${protocol.protocol_name || app.definition.title || t("Protocol")} v${protocol.version ?? ""}`;
  const view = params.get("view") || "session";
  document.title = `${sessionTitle(obs.session_info || obs.court)} · Courtwatch`;
  if (view === "hearing") return renderHearing(params.get("hearing"));
  if (view === "review") return renderReview();
  return renderSession();
}

function showAdhocStart() {
  startView();
  const published = (app.pack.protocol_versions || []).filter((p) => !p.status || p.status === "published");
  if (!published.length) return message(t("No protocol on this phone"), t("There is no published protocol on this phone yet. Open My assignments while online."), assignmentsLink());
  const today = new Date();
  const localDate = new Date(today.getTime() - today.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
  const field = (id, label, control, help) => h("div", { class: "field" }, h("label", { for: id }, label), help ? h("p", { class: "help" }, help) : null, control);
  const protocol = h("select", { id: "adhoc-protocol", required: true }, published.map((p) => h("option", { value: p.id }, `${p.protocol_name || localizeDefinition(p.definition)?.title || t("Protocol")} v${p.version}`)));
  const court = h("input", { id: "adhoc-court", required: true, maxlength: 200, autocomplete: "off" });
  const courtroom = h("input", { id: "adhoc-courtroom", required: true, maxlength: 60, autocomplete: "off" });
  const date = h("input", { id: "adhoc-date", type: "date", required: true, value: localDate });
  const start = h("input", { id: "adhoc-start", type: "time" });
  const judge = h("input", { id: "adhoc-judge", maxlength: 200, autocomplete: "off" });
  const calendar = h("select", { id: "adhoc-calendar" }, CALENDAR_TYPES.map(([value, label]) => h("option", { value }, t(label))));
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        const details = {
          court: court.value.trim(),
          courtroom: courtroom.value.trim(),
          session_date: date.value,
          start_time: start.value || null,
          judge: judge.value.trim() || null,
          calendar_type: calendar.value,
        };
        const chosen = await store.getProtocol(Number(protocol.value));
        const obs = store.newObservation({ owner: app.owner, protocolVersionId: Number(protocol.value), court: details, device: await store.deviceId(), definition: chosen ? chosen.definition : null });
        await store.addObservation(obs);
        await go({ observation: obs.id }, { replace: true });
        focusTitle();
      },
    },
    field("adhoc-protocol", t("Protocol"), protocol),
    field("adhoc-court", t("Court"), court),
    field("adhoc-courtroom", t("Courtroom"), courtroom),
    field("adhoc-date", t("Date"), date),
    field("adhoc-start", t("Scheduled start (optional)"), start),
    field("adhoc-judge", t("Presiding judge (optional)"), judge, t("A public official, named as on the court's calendar.")),
    field("adhoc-calendar", t("Calendar"), calendar),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("Start observing")),
  );
  mount(heading(t("Observe without an assignment")), h("p", { class: "muted" }, t("For a sitting you were not assigned to. Works offline.")), form);
}

async function showList() {
  startView();
  const mine = (await store.listObservations(app.owner)).sort((a, b) => String(b.client_edited_at).localeCompare(String(a.client_edited_at)));
  const started = new Set(mine.map((o) => o.assignment_id).filter(Boolean));
  const open = (app.pack.assignments || []).filter((a) => !started.has(a.id) && a.status !== "submitted" && a.status !== "cancelled");
  const syncLabel = (obs) => (store.needsFix(obs) ? t("needs fixing") : store.isUnsynced(obs) ? t("waiting to sync") : t("synced"));
  mount(
    heading(t("Capture")),
    h("h2", {}, t("On this phone")),
    mine.length
      ? h(
          "ul",
          { class: "hearing-list" },
          mine.map((obs) =>
            h(
              "li",
              { class: "hearing-item" },
              h(
                "a",
                { class: "hearing-link", href: link({ observation: obs.id }), onclick: navigate },
                h("strong", {}, sessionTitle(obs.session_info || obs.court)),
                h("span", { class: "muted small" }, ` · ${sessionLine(obs.session_info || obs.court)} · ${tn(obs.hearings.length, "{n} hearing", "{n} hearings")} · ${t(obs.status)} · ${syncLabel(obs)}`),
                sentBack(obs) !== null ? h("span", { class: "small review-comment", "data-review-comment": "" }, h("br"), h("strong", {}, t("Sent back: ")), sentBack(obs)) : null,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("Nothing recorded on this phone yet.")),
    h("h2", {}, t("Not started")),
    open.length
      ? h(
          "ul",
          { class: "hearing-list" },
          open.map((a) =>
            h("li", { class: "hearing-item" }, h("a", { class: "hearing-link", href: link({ assignment: a.id }), onclick: navigate }, h("strong", {}, sessionTitle(a.court_session)), h("span", { class: "muted small" }, ` · ${sessionLine(a.court_session)}`))),
          ),
        )
      : h("p", { class: "muted" }, t("No other assignments.")),
    h("div", { class: "actions" }, h("a", { class: "btn", href: link({ adhoc: 1 }), onclick: navigate }, t("Observe without an assignment")), h("a", { class: "btn", href: "/my/assignments" }, t("My assignments"))),
  );
}

async function route() {
  await app.debouncer.flush();
  const params = new URLSearchParams(location.search);
  // A sign-out made on this phone: nobody uses that account here until it is finished online.
  if (await pendingSignOut()) {
    if ((await finishSignOut()) === "done") return location.assign("/login");
    app.pack = null;
    app.obs = null;
    return message(
      t("Signed out on this phone"),
      t("Nobody can use that account on this phone now. The sign-out reaches the server as soon as there is a connection; then anyone can sign in here."),
      t("Records that were not yet on the server stay on this phone and are sent when their owner signs in again."),
    );
  }
  app.pack = await storedPack();
  if (!app.pack) {
    try {
      app.pack = await currentPack({ refresh: navigator.onLine });
    } catch (error) {
      if (error instanceof SignedOut) return message(t("Sign in"), t("Sign in again to use this phone for capture."), h("p", {}, h("a", { class: "btn btn-primary", href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, t("Sign in"))));
    }
  }
  if (!app.pack || !app.pack.user) {
    return message(t("Not ready for offline use yet"), t("This phone has no copy of your assignments yet. Open My assignments once while online; capture then works without a connection."), assignmentsLink());
  }
  app.owner = app.pack.user.id;
  setLanguage(app.pack.user.language || browserLanguage());
  document.getElementById("sync-now").textContent = t("Sync now");
  const observation = params.get("observation");
  if (observation) return openObservation(observation, params);
  if (params.get("assignment")) return openAssignment(Number(params.get("assignment")));
  if (params.get("adhoc")) return showAdhocStart();
  return showList();
}

// ---- status line and page life ---------------------------------------------------------------

function showStatus(status) {
  app.status = status;
  statusEl.dataset.tone = status.tone;
  const body = h(
    "span",
    { class: "status-body" },
    h("span", { class: "status-text" }, status.text),
    status.details.length ? h("span", { class: "status-details" }, ` · ${status.details.join(" · ")}`) : null,
    status.phase === "auth" ? [" ", h("a", { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, t("Sign in"))] : null,
  );
  statusEl.replaceChildren(body);
}

async function onStoreChange(notice) {
  // The list redraws when the server's copies land (e.g. one sent back for correction).
  if (notice.kind === "import" && !new URLSearchParams(location.search).toString()) return route();
  if (!app.obs || notice.id !== app.obs.id) return;
  if (notice.local && notice.kind === "edit") return; // this tab made it and holds it already
  const fresh = await store.getObservation(app.obs.id);
  if (!fresh || !app.obs || fresh.id !== app.obs.id) return;
  if (notice.kind !== "import" && (fresh.rev || 0) < (app.obs.rev || 0)) return;
  // Redraw for another tab's edit, the server's copy replacing ours, or a refused submit.
  const redraw = notice.kind === "import" || fresh.status !== app.obs.status || (!notice.local && fresh.rev !== app.obs.rev);
  app.obs = fresh;
  if (!redraw) return refresh();
  // Another tab changed it (or a submit was refused): draw again, keeping the caret.
  const active = document.activeElement;
  const keep = active && active.id ? { id: active.id, value: active.value, start: active.selectionStart, end: active.selectionEnd } : null;
  const turnEdit = app.timeline ? app.timeline.editState() : null;
  const sameView = location.href;
  await route();
  // An open turn edit keeps what was typed in it (the redraw starts from the stored copy).
  if (turnEdit && app.timeline && location.href === sameView) app.timeline.restoreEdit(turnEdit);
  if (keep) {
    const again = document.getElementById(keep.id);
    if (again) {
      again.focus({ preventScroll: true });
      try {
        again.setSelectionRange(keep.start, keep.end);
      } catch (_) {
        /* not a text field */
      }
    }
  }
}

function wirePage() {
  document.getElementById("sync-now").addEventListener("click", async () => {
    await app.debouncer.flush();
    if (!navigator.onLine) {
      notice(t("Offline: everything stays saved on this phone and is sent when a connection is back."), "warn");
      refreshStatus();
      return;
    }
    if (!app.pack) await route();
    await syncNow();
  });
  const flush = () => app.debouncer.flush();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
  // register-sw.js asks before an update; logout-guard.js before signing out.
  window.addEventListener("courtwatch:flush", (event) => event.detail.waits.push(flush()));
  window.addEventListener("popstate", () => route());
  // Back online with a sign-out waiting: finish it (route() does, then goes to sign-in).
  window.addEventListener("online", async () => {
    if (await pendingSignOut()) route();
  });
  store.onSaved(onStoreChange);
  onStatus(showStatus);
}

function trackHeaderHeight() {
  // The clock bar sticks right under the header, whose height follows the status text.
  const header = document.querySelector(".cap-top");
  if (!header || !("ResizeObserver" in window)) return;
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--cap-top", `${header.offsetHeight}px`);
  }).observe(header);
}

async function boot() {
  const stored = await storedPack().catch(() => null);
  setLanguage((stored && stored.user && stored.user.language) || browserLanguage());
  document.getElementById("sync-now").textContent = t("Sync now");
  wirePage();
  trackHeaderHeight();
  // A stored pack is enough to start; the fresh one (register-sw.js) lands in the background.
  if (!(await storedPack())) await packRefresh;
  await route();
  startOutbox();
  refreshStatus();
  document.documentElement.dataset.captureReady = "true";
}

boot().catch((error) => {
  console.error(error);
  message(t("Something went wrong"), t("The capture screen could not start: {error}. Everything already saved stays on this phone.", { error: error.message }));
});
