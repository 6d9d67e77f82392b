#!/usr/bin/python3
"""year.py -- a year of one region in a few minutes (issue 12 item 9).

Plays one region's year of applications and experts against the real
stack (nginx, the apply and review modules, the dispatcher's 24-hour
timers, PostgreSQL and Redis) with a fast clock: one simulated day is
--day-seconds real seconds (default 1), and the region's accept window
(accept_window_seconds, 24 h) is set to the same number of seconds, so
"24 hours to accept" is one simulated day.  The service is not changed:
only policies and data.

Who plays what:
  - the applications: complete drafts made in PostgreSQL (the applicant's
    side is not what is measured), submitted through POST
    /applications/{id}/submit by a hospital account at the simulated
    arrival times: a Poisson process over the year's working days (the
    calendar table), office hours;
  - the experts: each a thread signed in through the API from its own
    loopback address, polling GET /expert/tasks; a profile says how it
    behaves: most accept after a random delay (exponential, mean a few
    hours), some late (often past the window), a few refuse, a few never
    answer (the dispatcher expires them; three misses in a row and the
    expert is disqualified, R-CER-4); after accepting, each decides after
    a random delay (approve 85 %);
  - the dispatcher: the real one, expiring and pushing again.

What it reports (stdout lines and a JSON file): applications submitted and
decided, median and p90 WORKING days from submission to decision in the
simulated calendar, how many applications ever waited for an expert
(`unassigned` events), expiries, refusals, re-pushes, experts
disqualified, every draw verified (`mtcertctl draw verify --all`), and the
fraction of expected decision dates that held (decided on or before the
date the applicant was shown, carried into simulated time: the same
number of working days after the simulated submission day).

Why Python: Debian's python3 with requests is what the API tests already
use (no new dependency), and the driver is I/O-bound (a few requests per
simulated hour); the service under test is the C one.

Usage (the stack's environment as tests/bench/year.sh sets it):
  year.py --config VAR/mtcert.conf --api URL --ctl BIN --psql CONNINFO
          [--region 411200] [--days 365] [--apps 3000] [--day-seconds 1]
          [--experts 24] [--seed N] [--json FILE]
"""
import argparse
import datetime
import json
import math
import random
import statistics
import subprocess
import sys
import threading
import time

import requests

# The simulated year starts on this day (the calendar table holds the
# State Council's 2026 holidays).
YEAR_START = datetime.date(2026, 1, 1)
# Diseases reviewed online in the seed region, by the experts' specialty.
DISEASES = {"心血管": ["D010", "D011", "D013", "D015"],
            "呼吸": ["D009", "D012", "D017"],
            "肾病": ["D004", "D007", "D008"],
            "内分泌": ["D033", "D035"],
            "肿瘤": ["D001"]}
# Expert profiles: (share, name, p_refuse, accept delay in simulated hours
# as (kind, a, b), decide delay in simulated hours (low, high)).
PROFILES = [(0.60, "prompt", 0.02, ("exp", 3.0), (2.0, 30.0)),
            (0.25, "late", 0.05, ("uniform", 10.0, 30.0), (12.0, 60.0)),
            (0.10, "refuser", 0.60, ("exp", 6.0), (4.0, 40.0)),
            (0.05, "silent", 0.0, None, None)]


def sh(cmd, **kw):
    cp = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if cp.returncode != 0:
        sys.exit("year: %s: exit %d: %s" % (" ".join(cmd[:4]), cp.returncode,
                                            cp.stderr.strip()))
    return cp.stdout


class Sim:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.t0 = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # Accounts of this run: a second run on the same database (the
        # API test runs it twice) makes its own.
        self.run_tag = "%04d" % random.randrange(10000)
        self.counts = {"accepted": 0, "refused": 0, "decided": 0,
                       "errors": 0}
        # Applications the API accepted (their times are read back from
        # the database: submitted_at, decided_at, expected_decision_date).
        self.submitted = set()

    # --- PostgreSQL ---------------------------------------------------
    def q(self, sql):
        return sh(["psql", self.a.psql, "-qAtX", "-F", "\t", "-v",
                   "ON_ERROR_STOP=1", "-c", sql])

    def rows(self, sql):
        return [line.split("\t") for line in self.q(sql).splitlines() if line]

    # --- the API, from one loopback address a client ---------------------
    def session(self, n):
        s = requests.Session()
        addr = "127.77.%d.%d" % (n // 250, 1 + n % 250)

        class A(requests.adapters.HTTPAdapter):
            def init_poolmanager(self, *x, **kw):
                kw["source_address"] = (addr, 0)
                super().init_poolmanager(*x, **kw)
        s.mount("http://", A())
        return s

    def login(self, s, login, password):
        """Signed in (before the clock starts, one at a time: Argon2id
        is meant to be slow); a 503 or 429 is waited out, within a bound."""
        for _ in range(30):
            r = s.post(self.a.api + "/auth/password-login", timeout=60,
                       json={"login": login, "password": password})
            if r.status_code not in (429, 503):
                break
            time.sleep(float(r.headers.get("Retry-After", "1")))
        r.raise_for_status()
        return {"Authorization": "Bearer " + r.json()["token"]}

    # --- the simulated clock -------------------------------------------
    def sim_day(self, epoch):
        return (epoch - self.t0) / self.a.day_seconds

    def sim_date(self, epoch):
        """The simulated date of a real instant (the database's
        submitted_at / decided_at)."""
        return YEAR_START + datetime.timedelta(int(self.sim_day(epoch)))

    # --- set-up --------------------------------------------------------
    def setup(self):
        a, reg = self.a, self.a.region
        self.q("UPDATE policies SET value = '%d' WHERE region = '%s' AND key ="
               " 'accept_window_seconds'" % (max(1, round(a.day_seconds)), reg))
        # Four more hospitals of the region for the experts (the applicants
        # designate the first two): a pool of several hospitals, as the
        # re-review prefers another hospital (R-CER-2).
        self.q("INSERT INTO institutions (code, name, region, level, ownership,"
               " designated, certifying, source) SELECT 'H' || '%s' || lpad(g::text, 6,"
               " '9'), '模拟医院' || g, '%s', 2, 'public', true, true, 'sim'"
               " FROM generate_series(1, 4) g ON CONFLICT (code) DO UPDATE"
               " SET certifying = true, certification_status = 'active'"
               % (reg, reg))
        hospitals = [r[0] for r in self.rows(
            "SELECT code FROM institutions WHERE region = '%s' ORDER BY code"
            % reg)]
        self.designated = hospitals[:2]
        expert_hosp = hospitals[2:] or hospitals[1:]
        specs = list(DISEASES)
        self.experts = []
        for i in range(a.experts):
            login = "sim-ex-%s-%s-%d" % (reg, self.run_tag, i)
            spec = specs[i % len(specs)]
            sh([a.ctl, "--config", a.config, "expert", "add", "--login", login,
                "--password", "sim-expert-pass-1", "--institution",
                expert_hosp[i % len(expert_hosp)], "--title", "副高",
                "--specialties", spec])
            u = self.rng.random()
            for share, name, refuse, acc, dec in PROFILES:
                if u < share:
                    break
                u -= share
            self.experts.append({"login": login, "profile": name,
                                 "refuse": refuse, "accept": acc,
                                 "decide": dec})
        sh([a.ctl, "--config", a.config, "user", "add", "--role", "hospital",
            "--login", "sim-hosp-%s-%s" % (reg, self.run_tag), "--password", "sim-hosp-pass-1",
            "--institution", self.designated[0]])
        # The year's arrivals: Poisson over the working days, office hours.
        days = [YEAR_START + datetime.timedelta(d) for d in range(a.days)]
        work = set(r[0] for r in self.rows(
            "SELECT d::date FROM generate_series('%s'::date, '%s'::date,"
            " '1 day') d WHERE is_working_day(d::date)" % (days[0], days[-1])))
        wdays = [d for d in days if str(d) in work]
        # --apps a whole year's, over its ~250 working days.
        per_day = a.apps / 250.0
        arrivals = []
        for d in wdays:
            n = self.poisson(per_day)
            for _ in range(n):
                hour = self.rng.uniform(8.0, 18.0)
                arrivals.append((d - YEAR_START).days + hour / 24.0)
        arrivals.sort()
        self.make_drafts(arrivals)

    def poisson(self, lam):
        # Knuth's method: lam is a few a day.
        lim, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= lim:
                return k
            k += 1

    def make_drafts(self, arrivals):
        """One complete draft per arrival (a fresh person each, a disease
        of the simulated set, the required materials), filed by the
        hospital account so that it may submit them."""
        reg, n = self.a.region, len(arrivals)
        codes = [c for cs in DISEASES.values() for c in cs]
        plan = ",".join("(%d,'%s','%s')" % (i, self.rng.choice(codes),
                                            self.rng.choice(self.designated))
                        for i in range(n))
        tag = self.run_tag
        ids = self.rows("""
WITH plan (i, disease, inst) AS (VALUES %s),
     p AS (INSERT INTO persons (id_number, name, sex, birth_date, phone,
                                insurance, region)
           SELECT '%s' || '%s' || lpad(i::text, 8, '0'), '模拟' || i, 'F',
                  '1950-01-01', '137' || lpad(((%d * 10000 + i) %% 100000000)
                  ::text, 8, '0'), 'resident', '%s'
           FROM plan RETURNING id, substr(name, 3)::int AS i),
     a AS (INSERT INTO applications (person_id, disease, region, channel,
             review_mode, phone, medical_record_no, designated_institution,
             filing_institution, filed_by)
           SELECT p.id, plan.disease, '%s', 'hospital',
                  coalesce(rd.review_mode, d.review_mode), '13700000000',
                  'SIM' || plan.i, plan.inst, '%s',
                  (SELECT id FROM users WHERE login = 'sim-hosp-%s-%s')
           FROM plan JOIN p USING (i) JOIN diseases d ON d.code = plan.disease
           LEFT JOIN region_diseases rd ON rd.region = '%s'
                AND rd.disease = d.code
           ORDER BY plan.i RETURNING id, disease, medical_record_no),
     m AS (INSERT INTO materials (application_id, kind, issued_on, issuer,
             sha256, size_bytes, media_type, uploaded_by)
           SELECT a.id, dm.kind, cn_today() - 10, '模拟医院', repeat('a', 64),
                  100, 'image/png',
                  (SELECT id FROM users WHERE login = 'sim-hosp-%s-%s')
           FROM a JOIN disease_materials dm ON dm.disease = a.disease
                AND dm.required)
SELECT a.id, substr(a.medical_record_no, 4)::int FROM a ORDER BY 2
""" % (plan, reg, tag, int(tag), reg, reg, self.designated[0], reg, tag,
       reg, reg, tag))
        self.plan = [(arrivals[int(i)], int(aid)) for aid, i in ids]

    # --- the actors ------------------------------------------------------
    def submitter(self, s, h):
        for at, aid in self.plan:
            if self.stop.wait(max(0.0, self.t0 + at * self.a.day_seconds
                                  - time.time())):
                return
            r = s.post("%s/applications/%d/submit" % (self.a.api, aid),
                       headers=h, json={"promise": True}, timeout=60)
            with self.lock:
                if r.status_code != 200:
                    self.counts["errors"] += 1
                    print("year: submit %d: %s %s" % (aid, r.status_code,
                                                      r.text[:200]),
                          file=sys.stderr)
                    continue
                self.submitted.add(aid)

    def delay(self, spec):
        if spec[0] == "exp":
            return self.rng.expovariate(1.0 / spec[1])
        return self.rng.uniform(spec[1], spec[2])

    def expert(self, s, h, e):
        plans = {}                   # assignment id -> (real epoch, action)
        url = self.a.api + "/expert/tasks"
        while not self.stop.is_set():
            try:
                items = s.get(url, headers=h, timeout=60).json()["items"]
            except (requests.RequestException, ValueError, KeyError):
                self.stop.wait(0.5)
                continue
            now = time.time()
            for t in items:
                aid = t["id"]
                if aid in plans or e["profile"] == "silent":
                    continue
                if t["state"] == "pushed":
                    if self.rng.random() < e["refuse"]:
                        plans[aid] = (now + self.delay(("exp", 2.0)) / 24.0
                                      * self.a.day_seconds, "refuse")
                    else:
                        plans[aid] = (now + self.delay(e["accept"]) / 24.0
                                      * self.a.day_seconds, "accept")
            for aid, (when, what) in list(plans.items()):
                if when > time.time() or what == "done":
                    continue
                self.act(s, h, aid, what, plans, e)
            self.stop.wait(self.a.poll)

    def act(self, s, h, aid, what, plans, e):
        """Do the planned step; plan the next (a decision after an
        accept).  409 means the window closed first (the dispatcher won
        the race): what a late expert sees, not an error."""
        base = "%s/expert/tasks/%s/" % (self.a.api, aid)
        nxt = (0, "done")
        if what == "refuse":
            r = s.post(base + "refuse", headers=h, json={"reason": "回避"},
                       timeout=60)
            key = "refused"
        elif what == "accept":
            r = s.post(base + "accept", headers=h, timeout=60)
            key = "accepted"
            lo, hi = e["decide"]
            if r.status_code == 200:
                nxt = (time.time() + self.rng.uniform(lo, hi) / 24.0
                       * self.a.day_seconds, "decide")
        else:
            approve = self.rng.random() < 0.85
            r = s.post(base + "decision", headers=h, timeout=60, json={
                "decision": "approve" if approve else "reject",
                "opinion": "符合认定标准" if approve else "依据不足，不符合认定标准"})
            key = "decided"
        plans[aid] = nxt
        with self.lock:
            if r.status_code == 200:
                self.counts[key] += 1
            elif r.status_code == 409:
                self.counts["too_late"] = self.counts.get("too_late", 0) + 1
            else:
                self.counts["errors"] += 1
                print("year: %s %s: %s %s" % (what, aid, r.status_code,
                                              r.text[:200]), file=sys.stderr)

    # --- the run ---------------------------------------------------------
    def run(self):
        self.setup()
        s = self.session(0)
        threads = [threading.Thread(target=self.submitter, args=(s, self.login(
            s, "sim-hosp-%s-%s" % (self.a.region, self.run_tag),
            "sim-hosp-pass-1")))]
        for i, e in enumerate(self.experts):
            s = self.session(i + 1)
            threads.append(threading.Thread(target=self.expert, args=(
                s, self.login(s, e["login"], "sim-expert-pass-1"), e)))
        self.t0 = time.time()
        for t in threads:
            t.start()
        end = self.t0 + (self.a.days + self.a.tail_days) * self.a.day_seconds
        ids = ",".join(str(aid) for _, aid in self.plan) or "NULL"
        while time.time() < end:
            time.sleep(min(2.0, max(0.0, end - time.time())))
            # Past the year, it ends once nothing left can move: every
            # application decided, or waiting for an expert nobody can
            # be (unassigned: the simulation adds no expert and lifts no
            # disqualification), with no live assignment.  (It waited
            # the whole tail for those: 60 s of `make bench`'s 15
            # minutes, issue 13 item 7.)
            if time.time() > self.t0 + self.a.days * self.a.day_seconds and \
                    self.rows("SELECT count(*) FROM applications a WHERE"
                              " a.id IN (%s) AND a.status IN ('submitted',"
                              " 'in_review') AND (a.unassigned_since IS NULL"
                              " OR EXISTS (SELECT 1 FROM assignments x WHERE"
                              " x.application_id = a.id AND x.state IN"
                              " ('pushed', 'accepted')))" % ids) == [["0"]]:
                break
        self.stop.set()
        for t in threads:
            t.join(timeout=120)
        return self.report()

    def report(self):
        a = self.a
        ids = ",".join(str(k) for k in self.submitted) or "NULL"
        # Simulated days of submission and decision (real epochs mapped
        # back), then working days between them in the simulated calendar:
        # the working days d with submitted day < d <= decided day.
        times = {int(i): (float(s), float(d) if d else None)
                 for i, s, d in self.rows(
                     "SELECT id, extract(epoch FROM submitted_at),"
                     " extract(epoch FROM decided_at) FROM applications"
                     " WHERE id IN (%s)" % ids)}
        pairs = []
        for aid, (sub, dec) in times.items():
            if dec is not None:
                pairs.append((aid, self.sim_date(sub), self.sim_date(dec)))
        wd = {}
        if pairs:
            values = ",".join("(%d,'%s'::date,'%s'::date)" % p for p in pairs)
            wd = {int(i): int(n) for i, n in self.rows(
                "SELECT i, (SELECT count(*) FROM generate_series(s + 1, d,"
                " '1 day') g WHERE is_working_day(g::date)) FROM (VALUES %s)"
                " v(i, s, d)" % values)}
        # The expected date the applicant was shown, as working days after
        # the real submission day, carried to the simulated one.
        held = total_exp = 0
        if pairs:
            shown = {int(i): int(n) for i, n in self.rows(
                "SELECT id, (SELECT count(*) FROM generate_series("
                "(submitted_at AT TIME ZONE 'Asia/Shanghai')::date + 1,"
                " expected_decision_date, '1 day') g"
                " WHERE is_working_day(g::date)) FROM applications"
                " WHERE id IN (%s) AND expected_decision_date IS NOT NULL"
                % ids)}
            for aid, _, _ in pairs:
                if aid in shown:
                    total_exp += 1
                    held += wd[aid] <= shown[aid]
        days = sorted(wd.values())
        waited = int(self.rows(
            "SELECT count(DISTINCT application_id) FROM events WHERE type ="
            " 'unassigned' AND application_id IN (%s)" % ids)[0][0])
        ev = dict((t, int(n)) for t, n in self.rows(
            "SELECT type, count(*) FROM events WHERE application_id IN (%s)"
            " GROUP BY 1" % ids))
        status = dict((t, int(n)) for t, n in self.rows(
            "SELECT status, count(*) FROM applications WHERE id IN (%s)"
            " GROUP BY 1" % ids))
        disq = int(self.rows(
            "SELECT count(*) FROM experts e JOIN users u ON u.id = e.user_id"
            " WHERE u.login LIKE 'sim-ex-%s-%s-%%' AND e.status <> 'active'"
            % (a.region, self.run_tag))[0][0])
        ndraws = int(self.rows("SELECT count(*) FROM draws WHERE"
                               " application_id IN (%s)" % ids)[0][0])
        cp = subprocess.run([a.ctl, "--config", a.config, "draw", "verify",
                             "--all"], capture_output=True, text=True)
        line = (cp.stdout.strip().splitlines() or [""])[-1]
        per_app = [{"id": aid, "submitted": str(sd), "decided": str(dd),
                    "working_days": wd.get(aid)} for aid, sd, dd in pairs]
        return {
            "t0": self.t0, "per_application": per_app,
            "region": a.region, "simulated_days": a.days,
            "day_seconds": a.day_seconds,
            "real_seconds": round(time.time() - self.t0, 1),
            "applications": len(self.plan),
            "submitted": len(self.submitted),
            "decided": len(wd), "status": status,
            "working_days_median": statistics.median(days) if days else None,
            "working_days_p90": nearest_rank(days, 90),
            "waited_for_an_expert": waited,
            "pushes": ev.get("pushed", 0), "expired": ev.get("expired", 0),
            "refused": ev.get("refused", 0),
            "experts": len(self.experts), "experts_disqualified": disq,
            "expert_actions": dict(self.counts),
            "draws_verified": ndraws, "draw_verify_exit": cp.returncode,
            "draw_verify": line,
            "expected_dates": total_exp,
            "expected_dates_held": held,
            "expected_held_fraction": round(held / total_exp, 3)
            if total_exp else None,
        }


def nearest_rank(sorted_values, pct):
    """The pct-th percentile by nearest rank (the value at rank
    ceil(pct/100 * n)): a value that occurred, no interpolation."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(pct / 100.0 * len(sorted_values))
                             - 1)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--api", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--region", default="411200")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--tail-days", type=int, default=60,
                   help="simulated days after the last to let reviews end")
    p.add_argument("--apps", type=int, default=3000,
                   help="applications in a whole year")
    p.add_argument("--day-seconds", type=float, default=1.0)
    p.add_argument("--experts", type=int, default=30)
    p.add_argument("--poll", type=float, default=0.2,
                   help="real seconds between an expert's task-list reads")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--json")
    a = p.parse_args()
    if a.day_seconds < 1 or a.day_seconds != round(a.day_seconds):
        p.error("--day-seconds: whole seconds (accept_window_seconds is)")
    r = Sim(a).run()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, ensure_ascii=False, indent=1)
    print("year: %(applications)d applications over %(simulated_days)d"
          " simulated days in %(real_seconds)ss (1 day = %(day_seconds)gs)"
          % r)
    print("year: decided %(decided)d of %(submitted)d submitted; working days"
          " to decision median %(working_days_median)s, p90"
          " %(working_days_p90)s" % r)
    print("year: waited for an expert %(waited_for_an_expert)d; pushes"
          " %(pushes)d, expired %(expired)d, refused %(refused)d; experts"
          " disqualified %(experts_disqualified)d of %(experts)d" % r)
    print("year: expected dates held %(expected_dates_held)d of"
          " %(expected_dates)d (%(expected_held_fraction)s)" % r)
    print("year: the year's %(draws_verified)d draws recomputed by"
          " `mtcertctl draw verify --all`: %(draw_verify)s" % r)
    return 0 if r["draw_verify_exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
