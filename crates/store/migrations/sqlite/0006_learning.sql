-- Training: courses, their versions and lessons, enrolments and lesson progress, completion
-- records, requirement rules and training plans (SQLite).
-- Keep in step with ../postgres/0006_learning.sql.

-- HUD 2.06.1 funding sources of a project (a project may have several).
CREATE TABLE project_funders (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    funding_source INTEGER NOT NULL,
    PRIMARY KEY (project_id, funding_source)
);

-- A course; what it teaches lives in its versions. Prerequisites, price and tags belong to
-- the course, not to a version.
CREATE TABLE courses (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    data_standards TEXT,
    price_cents INTEGER,
    restrict_seeking BOOLEAN NOT NULL DEFAULT FALSE,
    tags TEXT NOT NULL DEFAULT '[]',
    objectives TEXT NOT NULL DEFAULT '[]',
    prerequisites TEXT NOT NULL DEFAULT '{}',
    published_version INTEGER,
    retired_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (implementation_id, key)
);

-- Every version is kept: people in progress keep the version they enrolled in.
CREATE TABLE course_versions (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses(id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES people(id),
    published_at TEXT,
    published_by INTEGER REFERENCES people(id),
    UNIQUE (course_id, version)
);

CREATE TABLE lessons (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES course_versions(id),
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    file_hash TEXT,
    duration_ms INTEGER,
    captions_hash TEXT,
    transcript TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    instructions TEXT NOT NULL DEFAULT '',
    quiz_key TEXT NOT NULL DEFAULT '',
    UNIQUE (version_id, key)
);
CREATE INDEX lessons_by_version ON lessons (version_id, position);

CREATE TABLE enrolments (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    version_id INTEGER NOT NULL REFERENCES course_versions(id),
    enrolled_at TEXT NOT NULL,
    completed_at TEXT,
    UNIQUE (person_id, course_id)
);
CREATE INDEX enrolments_by_course ON enrolments (course_id, completed_at);

-- One person's progress through one lesson. For a video: the merged played ranges, the
-- current viewing (its token, the last report's sequence number and time) and how many
-- reports were refused.
CREATE TABLE lesson_progress (
    enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
    lesson_id INTEGER NOT NULL REFERENCES lessons(id),
    started_at TEXT NOT NULL,
    completed_at TEXT,
    how TEXT NOT NULL DEFAULT '',
    covered TEXT NOT NULL DEFAULT '[]',
    covered_ms INTEGER NOT NULL DEFAULT 0,
    furthest_ms INTEGER NOT NULL DEFAULT 0,
    view_token TEXT,
    view_started_at TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_report_at TEXT,
    refused_reports INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (enrolment_id, lesson_id)
);

-- A recorded accommodation: the transcript read and confirmed instead of watching.
CREATE TABLE accommodations (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    course_id INTEGER REFERENCES courses(id),
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    granted_by INTEGER NOT NULL REFERENCES people(id),
    granted_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX accommodations_by_person ON accommodations (person_id);

-- What a person completed, item by item (a course version, later a quiz attempt, a session
-- attended, an exercise approved), with its evidence. "Recorded as met" rows name who
-- recorded them and why.
CREATE TABLE completions (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    item_kind TEXT NOT NULL,
    item_key TEXT NOT NULL,
    item_version INTEGER,
    completed_at TEXT NOT NULL,
    evidence TEXT NOT NULL,
    recorded_by INTEGER REFERENCES people(id),
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX completions_by_person ON completions (person_id, item_kind, item_key, completed_at);

-- Every saved version of an implementation's requirement rules (TOML).
CREATE TABLE requirement_rules (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES people(id),
    UNIQUE (implementation_id, version)
);

-- A person's training plan; every computation is a new version, the earlier ones kept.
CREATE TABLE training_plans (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    request_id INTEGER REFERENCES access_requests(id),
    version INTEGER NOT NULL,
    rules_version INTEGER NOT NULL,
    facts TEXT NOT NULL,
    spec TEXT NOT NULL,
    began_at TEXT NOT NULL,
    carry_over_days INTEGER NOT NULL,
    computed_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    superseded_at TEXT,
    UNIQUE (person_id, version)
);
CREATE INDEX training_plans_by_request ON training_plans (request_id);

CREATE TABLE plan_waivers (
    plan_id INTEGER NOT NULL REFERENCES training_plans(id),
    item TEXT NOT NULL,
    reason TEXT NOT NULL,
    waived_by INTEGER NOT NULL REFERENCES people(id),
    waived_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, item)
);

-- A learning path orders courses.
CREATE TABLE learning_paths (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    courses TEXT NOT NULL,
    UNIQUE (implementation_id, key)
);
