// The capture's own words in the volunteer's language, offline too: English is written in the
// code, other languages are dictionaries keyed by the English (locale-es.js). The language is
// the one the server chose for the account (the offline pack's user.language), else the
// browser's. A missing translation falls back to English, never to a blank.
import { ES } from "./locale-es.js";

const CATALOGS = { es: ES };
let current = "en";

export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const code = String(tag).toLowerCase().split("-")[0];
    if (code === "en" || CATALOGS[code]) return code;
  }
  return "en";
}

export function setLanguage(code) {
  current = CATALOGS[code] ? code : "en";
  document.documentElement.lang = current;
  return current;
}

export function language() {
  return current;
}

/** `text` in the current language, its {name} placeholders filled from `values`. */
export function t(text, values) {
  const catalog = CATALOGS[current];
  const translated = (catalog && catalog[text]) || text;
  return values ? translated.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match)) : translated;
}

/** The singular or plural message for `n` ({n} is filled in). */
export function tn(n, one, many, values = {}) {
  return t(n === 1 ? one : many, { n, ...values });
}

/** The translation kept for `code` in a protocol part's `translations` ("es" also finds "es-MX"). */
function textFor(translations, code) {
  if (!translations) return null;
  if (translations[code]) return translations[code];
  const key = Object.keys(translations).find((k) => k.toLowerCase().split("-")[0] === code);
  return key ? translations[key] : null;
}

function relabel(part, code, fields) {
  const text = textFor(part.translations, code);
  if (!text) return { ...part };
  const out = { ...part };
  for (const field of fields) if (text[field]) out[field] = text[field];
  return out;
}

/** A protocol definition with its labels, help, titles and choices in `code` where the protocol
 * has them (its `translations`); anything untranslated stays as written. Keys and values are
 * untouched, so answers are the same whatever the language. */
export function localizeDefinition(definition, code = current) {
  if (!definition || !code || (definition.language || "en") === code) return definition;
  const out = relabel(definition, code, ["title", "description"]);
  out.sections = (definition.sections || []).map((section) => {
    const s = relabel(section, code, ["title", "help"]);
    s.questions = (section.questions || []).map((question) => {
      const q = relabel(question, code, ["label", "help"]);
      if (question.choices) q.choices = question.choices.map((c) => relabel(c, code, ["label"]));
      if (question.roles) q.roles = localizeRoles(question.roles, code);
      return q;
    });
    return s;
  });
  return out;
}

/** Timeline roles with their labels in `code` where given. */
export function localizeRoles(roles, code = current) {
  return (roles || []).map((r) => relabel(r, code, ["label"]));
}
