// Renders one protocol question as a big-target control and reports every change at once.
// Answer formats follow app/protocols/definition.py: yes_no "yes"|"no"|"not_observed";
// single_choice str; multi_choice and roles_present list[str]; count int >= 0; number;
// time "HH:MM"; short_text / long_text str. An empty answer is removed, not stored as "".
import { h } from "./dom.js";
import { t } from "./i18n.js";

const YES_NO = [
  { value: "yes", label: "Yes" },
  { value: "no", label: "No" },
  { value: "not_observed", label: "Not observed" },
];
const NAMES_WARNING = "Do not write the names of victims, witnesses or anyone other than public officials.";
const TEXT_DEBOUNCE_MS = 250;

export function questionsOf(definition, level) {
  const out = [];
  for (const section of definition.sections || []) {
    if ((section.level || "hearing") !== level) continue;
    out.push({ section, questions: section.questions || [] });
  }
  return out;
}

export function timelineRoles(definition, fallback = []) {
  for (const section of definition.sections || []) {
    for (const q of section.questions || []) {
      if (q.type === "speaker_timeline" && q.roles && q.roles.length) return q.roles;
    }
  }
  return fallback;
}

/** Same as definition.py's is_unanswered: nothing, or blank text. An empty list is an answer
 * ("none of these"). */
export function isEmpty(value) {
  return value === undefined || value === null || (typeof value === "string" && !value.trim());
}

function lookup(key, answers, outer) {
  const value = answers ? answers[key] : undefined;
  return isEmpty(value) && outer ? outer[key] : value;
}

function conditionMet(rule, value) {
  if (isEmpty(value)) return false;
  if (Array.isArray(rule.any_of)) {
    const pool = Array.isArray(value) ? value : [value];
    return pool.some((v) => typeof v === "string" && rule.any_of.includes(v));
  }
  if (rule.equals === null || rule.equals === undefined) return false;
  return Array.isArray(value) ? value.some((v) => v === rule.equals) : value === rule.equals;
}

/** Mirrors ProtocolDefinition.is_visible: show_if {question, equals | any_of}, list answers
 * match on any item, a hearing question may look at the session's answers (`outer`), and a
 * question that depends on a hidden question is hidden too. */
export function isVisible(question, answers, { outer = null, byKey = new Map() } = {}) {
  const seen = new Set();
  let current = question;
  while (current && current.show_if) {
    if (seen.has(current.key)) return false;
    seen.add(current.key);
    const rule = current.show_if;
    if (!conditionMet(rule, lookup(rule.question, answers, outer))) return false;
    current = byKey.get(rule.question);
  }
  return true;
}

function describedBy(...ids) {
  return ids.filter(Boolean).join(" ") || null;
}

/** A question control. `onChange(value, { now })`: `now` false means "typing, save soon". */
export function renderQuestion(question, { idPrefix, value, roles = [], readOnly = false, onChange }) {
  const id = `${idPrefix}-${question.key}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const help = question.help || (question.type === "short_text" || question.type === "long_text" ? t(NAMES_WARNING) : "");
  const helpEl = help ? h("p", { class: "help", id: helpId }, help) : null;
  const errorEl = h("div", { class: "q-error", id: errorId, "aria-live": "polite" });
  const required = question.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
  const wrap = h("div", { class: "q", "data-key": question.key, "data-type": question.type });
  const set = (next, opts = { now: true }) => onChange(isEmpty(next) ? null : next, opts);

  const choiceGroup = (options, multiple, layout) => {
    const name = id;
    const current = multiple ? new Set(Array.isArray(value) ? value : []) : value;
    const fieldset = h(
      "fieldset",
      { class: "q-set", "aria-describedby": describedBy(helpEl && helpId, errorId), disabled: readOnly },
      h("legend", {}, question.label, required),
      helpEl,
    );
    const box = h("div", { class: layout });
    for (const option of options) {
      const input = h("input", {
        type: multiple ? "checkbox" : "radio",
        name,
        value: option.value,
        checked: multiple ? current.has(option.value) : current === option.value,
      });
      if (multiple) {
        input.addEventListener("change", () => {
          const picked = [...box.querySelectorAll("input:checked")].map((i) => i.value);
          set(picked);
        });
      } else {
        // A second tap on the chosen tile clears the answer (radios cannot be unticked).
        let wasChecked = false;
        input.addEventListener("pointerdown", () => {
          wasChecked = input.checked;
        });
        input.addEventListener("click", () => {
          if (wasChecked) {
            input.checked = false;
            wasChecked = false;
            set(null);
          }
        });
        input.addEventListener("change", () => {
          if (input.checked) set(input.value);
        });
        input.addEventListener("keydown", (event) => {
          if ((event.key === "Delete" || event.key === "Backspace") && input.checked) {
            input.checked = false;
            set(null);
          }
        });
      }
      box.append(h("label", { class: "tile-choice" }, input, h("span", {}, option.label)));
    }
    fieldset.append(box);
    return fieldset;
  };

  const labelled = (control) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: id }, question.label, required),
      helpEl,
      control,
    );

  switch (question.type) {
    case "yes_no":
      wrap.append(choiceGroup(YES_NO.map((o) => ({ ...o, label: t(o.label) })), false, "seg3"));
      break;
    case "single_choice":
      wrap.append(choiceGroup((question.choices || []).map(asOption), false, "tiles-col"));
      break;
    case "multi_choice":
      wrap.append(choiceGroup((question.choices || []).map(asOption), true, "tiles-col"));
      break;
    case "roles_present": {
      const options = question.choices && question.choices.length ? question.choices.map(asOption) : roles.map((r) => ({ value: r.key, label: r.label }));
      wrap.append(choiceGroup(options, true, "tiles-2"));
      break;
    }
    case "count": {
      const min = Math.max(0, question.min ?? 0);
      const max = question.max ?? null;
      const input = h("input", {
        id,
        type: "number",
        inputmode: "numeric",
        min,
        max,
        step: 1,
        value: isEmpty(value) ? "" : String(value),
        placeholder: "0",
        readOnly,
        "aria-describedby": describedBy(helpEl && helpId, errorId),
      });
      const clamp = (n) => Math.min(max ?? Infinity, Math.max(min, n));
      const step = (delta) => {
        // From "not answered": + gives the first count above zero, − gives the minimum.
        const current = Number(input.value);
        const next =
          input.value === "" || !Number.isFinite(current)
            ? clamp(delta > 0 ? Math.max(min, 1) : min)
            : clamp(current + delta);
        input.value = String(next);
        set(next);
      };
      input.addEventListener("input", () => {
        if (input.value === "") return set(null, { now: false });
        const n = Number(input.value);
        if (Number.isInteger(n) && n >= 0) set(n, { now: false });
      });
      input.addEventListener("change", () => {
        if (input.value === "") return set(null);
        const n = Number(input.value);
        if (Number.isInteger(n) && n >= 0) set(clamp(n));
      });
      wrap.append(
        labelled(
          h(
            "div",
            { class: "stepper" },
            h("button", { type: "button", class: "btn", "aria-label": `Fewer: ${question.label}`, disabled: readOnly, onclick: () => step(-1) }, "−"),
            input,
            h("button", { type: "button", class: "btn", "aria-label": `More: ${question.label}`, disabled: readOnly, onclick: () => step(1) }, "+"),
          ),
        ),
      );
      break;
    }
    case "number": {
      const input = h("input", {
        id,
        type: "number",
        inputmode: "decimal",
        step: "any",
        min: question.min ?? null,
        max: question.max ?? null,
        value: isEmpty(value) ? "" : String(value),
        readOnly,
        "aria-describedby": describedBy(helpEl && helpId, errorId),
      });
      const read = (now) => {
        if (input.value === "") return set(null, { now });
        const n = Number(input.value);
        if (Number.isFinite(n)) set(n, { now });
      };
      input.addEventListener("input", () => read(false));
      input.addEventListener("change", () => read(true));
      wrap.append(labelled(input));
      break;
    }
    case "time": {
      const input = h("input", { id, type: "time", value: isEmpty(value) ? "" : value, readOnly, "aria-describedby": describedBy(helpEl && helpId, errorId) });
      input.addEventListener("change", () => set(input.value ? input.value.slice(0, 5) : null));
      wrap.append(labelled(input));
      break;
    }
    case "long_text":
    case "short_text": {
      const long = question.type === "long_text";
      const input = h(long ? "textarea" : "input", {
        id,
        type: long ? null : "text",
        rows: long ? 4 : null,
        maxlength: question.max_length ?? (long ? 5000 : 200), // definition.py DEFAULT_MAX_LENGTH
        autocomplete: "off",
        value: isEmpty(value) ? "" : String(value),
        readOnly,
        "aria-describedby": describedBy(helpEl && helpId, errorId),
      });
      input.addEventListener("input", () => set(input.value, { now: false }));
      input.addEventListener("change", () => set(input.value));
      wrap.append(labelled(input));
      break;
    }
    case "speaker_timeline":
      // Drawn by the hearing view (timeline.js); the question only places it.
      wrap.append(h("h3", { class: "q-title" }, question.label), helpEl);
      break;
    default:
      wrap.append(h("p", { class: "muted" }, `${question.label}: this kind of question (${question.type}) cannot be answered on this phone yet.`));
  }
  wrap.append(errorEl);
  return {
    el: wrap,
    setErrors(messages) {
      errorEl.replaceChildren(...messages.map((m) => h("p", { class: "error" }, m)));
      wrap.classList.toggle("has-error", messages.length > 0);
    },
    setVisible(visible) {
      wrap.hidden = !visible;
    },
  };
}

function asOption(choice) {
  return typeof choice === "string" ? { value: choice, label: choice } : { value: choice.value, label: choice.label };
}

/** Debounce per key, with a flush for pagehide/visibilitychange. */
export class Debouncer {
  constructor(delay = TEXT_DEBOUNCE_MS) {
    this.delay = delay;
    this.pending = new Map();
  }

  schedule(key, run) {
    const previous = this.pending.get(key);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => {
      this.pending.delete(key);
      run();
    }, this.delay);
    this.pending.set(key, { timer, run });
  }

  cancel(key) {
    const previous = this.pending.get(key);
    if (previous) clearTimeout(previous.timer);
    this.pending.delete(key);
  }

  flush() {
    const runs = [...this.pending.values()];
    this.pending.clear();
    return Promise.all(
      runs.map((p) => {
        clearTimeout(p.timer);
        return p.run();
      }),
    );
  }
}
