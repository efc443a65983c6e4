-- The question bank, quizzes and their attempts (PostgreSQL).
-- Keep in step with ../sqlite/0013_quizzes.sql.

-- A bank's categories, nested: `path` is the JSON array of names from the top, unique in
-- the implementation; `parent_id` is the category one level up (NULL at the top).
CREATE TABLE question_categories (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    parent_id BIGINT REFERENCES question_categories(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    UNIQUE (implementation_id, path)
);

-- A question of the bank. Its text and answers live in its versions: editing a question
-- adds a version, and attempts keep the version they asked.
CREATE TABLE questions (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    category_id BIGINT NOT NULL REFERENCES question_categories(id),
    name TEXT NOT NULL,
    id_number TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    kind TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX questions_by_id_number ON questions (implementation_id, id_number) WHERE id_number IS NOT NULL;
CREATE INDEX questions_by_category ON questions (category_id);

-- `body` is the question as `onramp_domain::learning::question::Question` (JSON).
CREATE TABLE question_versions (
    id BIGSERIAL PRIMARY KEY,
    question_id BIGINT NOT NULL REFERENCES questions(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by BIGINT REFERENCES people(id),
    UNIQUE (question_id, version)
);

-- A quiz; `settings` is `onramp_domain::learning::quiz::QuizSettings` (JSON).
CREATE TABLE quizzes (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    intro TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ,
    UNIQUE (implementation_id, key)
);

-- What a quiz asks, in order: one question, or `draw_count` drawn at random from a
-- category (and its subcategories when `with_subcategories`).
CREATE TABLE quiz_slots (
    id BIGSERIAL PRIMARY KEY,
    quiz_id BIGINT NOT NULL REFERENCES quizzes(id),
    position INTEGER NOT NULL,
    question_id BIGINT REFERENCES questions(id),
    category_id BIGINT REFERENCES question_categories(id),
    draw_count INTEGER NOT NULL DEFAULT 1,
    with_subcategories BOOLEAN NOT NULL DEFAULT TRUE,
    CHECK ((question_id IS NULL) <> (category_id IS NULL)),
    UNIQUE (quiz_id, position)
);

-- One attempt of a person at a quiz. At most one is open (not submitted) per person and
-- quiz, so that two tabs resume the same attempt; submitting sets `submitted_at` once.
CREATE TABLE quiz_attempts (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    quiz_id BIGINT NOT NULL REFERENCES quizzes(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    number INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    deadline_at TIMESTAMPTZ,
    submitted_at TIMESTAMPTZ,
    -- Marks once every question is graded (an essay waits for a person).
    mark DOUBLE PRECISION,
    max_mark DOUBLE PRECISION NOT NULL,
    percent DOUBLE PRECISION,
    passed BOOLEAN,
    too_fast BOOLEAN NOT NULL DEFAULT FALSE,
    flag_cleared_at TIMESTAMPTZ,
    flag_cleared_by BIGINT REFERENCES people(id),
    flag_note TEXT NOT NULL DEFAULT '',
    UNIQUE (quiz_id, person_id, number)
);
CREATE UNIQUE INDEX quiz_attempts_one_open ON quiz_attempts (quiz_id, person_id) WHERE submitted_at IS NULL;
CREATE INDEX quiz_attempts_by_person ON quiz_attempts (person_id, quiz_id);
CREATE INDEX quiz_attempts_by_quiz ON quiz_attempts (quiz_id, submitted_at);

-- The questions of an attempt as asked: the version, the order its answers were shown in
-- (JSON array of indexes), the response (JSON `Response`), when it was last answered, the
-- seconds spent on it, and its mark (NULL until graded).
CREATE TABLE attempt_questions (
    id BIGSERIAL PRIMARY KEY,
    attempt_id BIGINT NOT NULL REFERENCES quiz_attempts(id),
    position INTEGER NOT NULL,
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    answer_order TEXT NOT NULL DEFAULT '[]',
    response TEXT,
    answered_at TIMESTAMPTZ,
    seconds INTEGER NOT NULL DEFAULT 0,
    mark DOUBLE PRECISION,
    max_mark DOUBLE PRECISION NOT NULL DEFAULT 1,
    graded_by BIGINT REFERENCES people(id),
    grader_comment TEXT NOT NULL DEFAULT '',
    UNIQUE (attempt_id, position)
);
CREATE INDEX attempt_questions_by_version ON attempt_questions (question_version_id);
