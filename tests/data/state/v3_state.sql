PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE actions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        incident_id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_us INTEGER NOT NULL,
        next_attempt_us INTEGER NOT NULL,
        done_us INTEGER,
        last_error TEXT NOT NULL DEFAULT ''
    , started INTEGER NOT NULL DEFAULT 0);
INSERT INTO actions VALUES(1,'1/open/0/oncall',1,'oncall','notify','{"idempotency_key":"1/open/0/oncall","kind":"notify","channel":"oncall","text":"[critical] isp-outage: liwest — incident 1 opened (10 mentions, 10 negative, 10 authors, volume x2)","at":"2026-12-05T00:31:04.465Z","event":"opened","incident":{"id":1,"rule":"isp-outage","key":"liwest","severity":"critical","state":"open","opened_at":"2026-12-05T00:31:04.465Z","evidence":{"count":10,"negative_count":10,"negative_ratio":1,"unique_authors":10,"volume_ratio":2,"rate":2,"baseline_rate":1}},"console_url":"http://127.0.0.1:39057/#incident-1"}','sent',1,1796430664465173,1796430664465173,1796430664480658,'',0);
INSERT INTO actions VALUES(2,'2/open/0/oncall',2,'oncall','notify','{"idempotency_key":"2/open/0/oncall","kind":"notify","channel":"oncall","text":"[warning] magenta-tv: magenta — incident 2 opened (10 mentions, 10 negative, 10 authors, volume x2)","at":"2026-12-05T00:31:04.465Z","event":"opened","incident":{"id":2,"rule":"magenta-tv","key":"magenta","severity":"warning","state":"open","opened_at":"2026-12-05T00:31:04.465Z","evidence":{"count":10,"negative_count":10,"negative_ratio":1,"unique_authors":10,"volume_ratio":2,"rate":2,"baseline_rate":1}},"console_url":"http://127.0.0.1:39057/#incident-2"}','sent',1,1796430664465253,1796430664465253,1796430664485912,'',0);
INSERT INTO actions VALUES(3,'2/resolve/1/oncall',2,'oncall','notify','{"idempotency_key":"2/resolve/1/oncall","kind":"notify","channel":"oncall","text":"[warning] magenta-tv: magenta — incident 2 resolved after 0s","at":"2026-12-05T00:31:04.538Z","event":"resolved","incident":{"id":2,"rule":"magenta-tv","key":"magenta","severity":"warning","state":"resolved","opened_at":"2026-12-05T00:31:04.465Z","resolved_at":"2026-12-05T00:31:04.538Z","evidence":{"count":10,"negative_count":10,"negative_ratio":1,"unique_authors":10,"volume_ratio":2,"rate":2,"baseline_rate":1}},"console_url":"http://127.0.0.1:39057/#incident-2"}','sent',1,1796430664538693,1796430664538693,1796430664543791,'',0);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES('next_incident_id','3');
INSERT INTO meta VALUES('silence/isp-outage/liwest','4102444800000000 Anna Berger');
INSERT INTO meta VALUES('detector:isp-outage','v1 548c21b16939c71a Q0NEUwEAAABAS0wAAAAAAAAAAAAAAAAAAQAAAAAAAAAGAAAAAAAAAGxpd2VzdPT6rRvYYQYAdUVqFQAAAAB0RWoVAAAAAAMVe54b2GEGAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwAAAAMAAAADAAAAHjZ//8AAAAAAAAAAAAAAAAAAAAADAAAAAAAAACzFaJMKI9KvHRFahUAAAAAlfJLqcIM4kJ0RWoVAAAAAJ/nW7u0k5WkdEVqFQAAAADN9VX5pjQ6lHRFahUAAAAA8R8oyVFRcQd0RWoVAAAAANvm7Q1fCcwYdEVqFQAAAADpMYby0LVmdHRFahUAAAAA1aFj1iLg7wd0RWoVAAAAAE9h3P5CCxDCdEVqFQAAAABH7lcGX9PjVXRFahUAAAAAOTHQqxNc2LB0RWoVAAAAAHOxprjIhqJkdEVqFQAAAAA=');
INSERT INTO meta VALUES('detector:magenta-tv','v1 229f6b8c9dc7fe2b Q0NEUwEAAABAS0wAAAAAAAAAAAAAAAAAAQAAAAAAAAAHAAAAAAAAAG1hZ2VudGH0+q0b2GEGAHVFahUAAAAAdEVqFQAAAAADZXueG9hhBgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAADAAAAAwAAAC81///AAAAAAAAAAAAAAAAAAAAAAwAAAAAAAAADcGz7dec/k50RWoVAAAAAIfWXVNyeFeHdEVqFQAAAAB72GZHLnwfe3RFahUAAAAAMZ4xksHYPm10RWoVAAAAAIMjGHtWKrB3dEVqFQAAAACFgVmwYy1WAnRFahUAAAAAH1Fp1N3wJRp0RWoVAAAAAOnkrikyHXfTdEVqFQAAAABh5zK57XKslnRFahUAAAAAV8f6RIhKRhx0RWoVAAAAAJ14NLR454fMdEVqFQAAAADZN9rlnBbUvHRFahUAAAAA');
INSERT INTO meta VALUES('jetstream_cursor:bsky','1764756000123456');
CREATE TABLE incidents (id INTEGER PRIMARY KEY, snapshot TEXT NOT NULL, resolved_us INTEGER);
INSERT INTO incidents VALUES(1,'{"id":1,"rule":"isp-outage","key":"liwest","severity":"critical","playbook":"page","state":"open","opened_at_us":1796430664465173,"acknowledged_at_us":null,"resolved_at_us":null,"evidence":{"count":10,"negative_count":10,"negative_ratio":1,"mean_compound":-0.8220000000000001,"unique_authors":10,"rate":2,"baseline_rate":1,"volume_ratio":2,"zscore":2.23606797749979},"languages":{"en":10},"steps":[{"index":0,"on_resolve":false,"kind":"notify","state":"emitted","due_us":null,"preview":"","language":"","fresh_approval":false,"identity":{"kind":"notify","statement":"","approval":"auto","channels":["oncall"],"wait_us":0,"after_us":0,"unless_acknowledged":true}},{"index":1,"on_resolve":true,"kind":"notify","state":"scheduled","due_us":null,"preview":"","language":"","fresh_approval":false}],"history":[{"at_us":1796430664465173,"who":"crisisd","what":"opened"},{"at_us":1796430664465173,"who":"crisisd","what":"notified step 0: oncall"}]}',NULL);
INSERT INTO incidents VALUES(2,'{"id":2,"rule":"magenta-tv","key":"magenta","severity":"warning","playbook":"page","state":"resolved","opened_at_us":1796430664465253,"acknowledged_at_us":null,"resolved_at_us":1796430664538693,"evidence":{"count":10,"negative_count":10,"negative_ratio":1,"mean_compound":-0.859,"unique_authors":10,"rate":2,"baseline_rate":1,"volume_ratio":2,"zscore":2.23606797749979},"languages":{"en":10},"steps":[{"index":0,"on_resolve":false,"kind":"notify","state":"emitted","due_us":null,"preview":"","language":"","fresh_approval":false,"identity":{"kind":"notify","statement":"","approval":"auto","channels":["oncall"],"wait_us":0,"after_us":0,"unless_acknowledged":true}},{"index":1,"on_resolve":true,"kind":"notify","state":"emitted","due_us":null,"preview":"","language":"","fresh_approval":false,"identity":{"kind":"notify","statement":"","approval":"auto","channels":["oncall"],"wait_us":0,"after_us":0,"unless_acknowledged":true}}],"history":[{"at_us":1796430664465253,"who":"crisisd","what":"opened"},{"at_us":1796430664465253,"who":"crisisd","what":"notified step 0: oncall"},{"at_us":1796430664538693,"who":"Anna Berger","what":"resolved"},{"at_us":1796430664538693,"who":"crisisd","what":"notified step 1: oncall"}]}',1796430664538693);
CREATE TABLE instance (id TEXT NOT NULL);
INSERT INTO instance VALUES('79d503e2e8f5883cd3f0116857e141d0');
CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_us INTEGER NOT NULL,
        who TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
INSERT INTO audit VALUES(1,1796430664540509,'Anna Berger','127.0.0.1','resolve','incident 2','done');
INSERT INTO audit VALUES(2,1796430664549685,'Anna Berger','127.0.0.1','silence','rule isp-outage key liwest for 720h','done');
CREATE TABLE feed_items (
        source TEXT NOT NULL,
        id TEXT NOT NULL,
        seen_us INTEGER NOT NULL,
        UNIQUE(source, id)
    );
CREATE TABLE feed_sources (source TEXT PRIMARY KEY, first_polled_us INTEGER NOT NULL);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('actions',3);
INSERT INTO sqlite_sequence VALUES('audit',2);
CREATE INDEX actions_pending ON actions(state, channel, seq);
CREATE INDEX actions_incident ON actions(incident_id);
CREATE INDEX incidents_resolved ON incidents(resolved_us);
COMMIT;
PRAGMA user_version = 3;
