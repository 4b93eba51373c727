// The protocol's labels in the volunteer's language (app/static/js/i18n.js localizeDefinition).
import assert from "node:assert/strict";
import { test } from "node:test";

import { localizeDefinition, localizeRoles } from "../../../app/static/js/i18n.js";

const DEFINITION = {
  title: "Sentencing",
  translations: { es: { title: "Sentencias" } },
  sections: [
    {
      key: "hearing",
      title: "Hearing",
      level: "hearing",
      help: "Each case called.",
      translations: { "es-MX": { title: "Audiencia" } },
      questions: [
        {
          key: "continued",
          type: "yes_no",
          label: "Was it continued?",
          help: "Put off to another day.",
          translations: { es: { label: "¿Se aplazó?" } },
        },
        {
          key: "outcome",
          type: "single_choice",
          label: "Outcome",
          choices: [
            { value: "jail", label: "Jail", translations: { es: { label: "Cárcel" } } },
            { value: "fine", label: "Fine" },
          ],
        },
        {
          key: "who",
          type: "speaker_timeline",
          label: "Who speaks",
          roles: [{ key: "judge", label: "Judge", colour: "#fff", translations: { es: { label: "Juez/a" } } }],
        },
      ],
    },
  ],
};

test("labels come from the translations, untranslated parts stay as written, keys never change", () => {
  const es = localizeDefinition(DEFINITION, "es");
  assert.equal(es.title, "Sentencias");
  assert.equal(es.sections[0].title, "Audiencia"); // es finds es-MX
  assert.equal(es.sections[0].help, "Each case called."); // no Spanish help: the base, not a blank
  const [continued, outcome, who] = es.sections[0].questions;
  assert.equal(continued.label, "¿Se aplazó?");
  assert.equal(continued.help, "Put off to another day.");
  assert.deepEqual(outcome.choices.map((c) => [c.value, c.label]), [["jail", "Cárcel"], ["fine", "Fine"]]);
  assert.deepEqual(who.roles.map((r) => [r.key, r.label]), [["judge", "Juez/a"]]);
  assert.deepEqual(es.sections[0].questions.map((q) => q.key), ["continued", "outcome", "who"]);
  assert.equal(DEFINITION.sections[0].questions[0].label, "Was it continued?"); // not changed in place
});

test("the protocol's own language and languages it lacks give the base words", () => {
  assert.equal(localizeDefinition(DEFINITION, "en"), DEFINITION);
  assert.equal(localizeDefinition(DEFINITION, "fr").sections[0].questions[0].label, "Was it continued?");
  assert.deepEqual(localizeRoles([{ key: "judge", label: "Judge", translations: { es: { label: "Juez/a" } } }], "es").map((r) => r.label), ["Juez/a"]);
  assert.deepEqual(localizeRoles(undefined, "es"), []);
});
