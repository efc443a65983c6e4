// Taking a starter quiz as a trainee who studied the courses: the answers they know, and a
// helper that fills an attempt's page with them (or with one answer only) in the browser.

/**
 * What a trainee who studied the starter courses answers: a piece of each question's text,
 * and the answer (the labels of the choices to pick, "true"/"false", the text to type, or
 * for matching, each prompt's answer in the prompts' order).
 */
export const STARTER_ANSWERS = [
  ['Who administers', ['The HMIS Lead chosen by the CoC']],
  ['records the people a community serves', ['true']],
  ['uses of HMIS data', ['Reports to HUD and other funders', 'Understanding the community']],
  ['Before creating a new client record', ['search for the client thoroughly']],
  ['duplicate client record is harmless', ['false']],
  ['approximate date of birth', ['approximate']],
  ['whether they are a veteran', ['Client prefers not to answer']],
  ['How many heads of household', ['1']],
  ['Match each household member', ["Head of household's child", "Head of household's spouse or partner", "Head of household's other relation member"]],
  ['Which report does a HUD CoC Program grantee', ['The Annual Performance Report (APR)']],
  ['Data quality problems should be fixed', ['true']],
  ['how many months long', ['12']],
];

/** Answers one question (a `fieldset.question` locator) with what the trainee knows. */
export async function answerQuestion(question) {
  const text = await question.locator('legend').innerText();
  const known = STARTER_ANSWERS.find(([fragment]) => text.includes(fragment));
  if (!known) throw new Error(`a question the trainee never learned: ${text}`);
  const answer = known[1];
  const selects = question.locator('select');
  if (await selects.count()) {
    for (let i = 0; i < answer.length; i += 1) await selects.nth(i).selectOption(answer[i]);
    return;
  }
  const choices = question.locator('input[type=radio], input[type=checkbox]');
  if (await choices.count()) {
    if (await question.locator('input[value=true]').count()) {
      await question.locator(`input[value=${answer[0]}]`).check();
      return;
    }
    for (const a of answer) {
      const label = question.locator('label', { hasText: a });
      await question.locator(`#${await label.getAttribute('for')}`).check();
    }
    return;
  }
  await question.locator('input[type=text], textarea').fill(answer[0]);
}

/** Answers every question of the attempt's page. */
export async function answerAll(page) {
  const questions = page.locator('fieldset.question');
  const n = await questions.count();
  if (n === 0) throw new Error(`the attempt asks nothing: ${await page.locator('main').innerText()}`);
  for (let i = 0; i < n; i += 1) await answerQuestion(questions.nth(i));
  return n;
}
