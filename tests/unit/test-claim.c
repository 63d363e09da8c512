/*
 * Table-driven test of the claim decision table (SPEC §3.2.3, rows C1-X3), the pure
 * function coord_claim_decide of lib/coord_jobs.h.
 *
 * Part 1: one hand-written case per row of the table (and per alternative of a row),
 * plus edge cases named in the prose of §3.2.3 / §7.
 * Part 2: every combination of the inputs is compared with a reference written
 * directly from the SPEC table, independently of the implementation; and properties
 * the SPEC states in prose are checked over all combinations (X3 is never reached,
 * a job is returned iff the item is claimed, E2 is the only row that resets a job).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "coord_jobs.h"
#include "tap.h"

#define ABSENT COORD_JOB_ABSENT
#define PENDING COORD_JOB_PENDING
#define IN_PROGRESS COORD_JOB_IN_PROGRESS
#define COMPLETED COORD_JOB_COMPLETED
#define FAILED COORD_JOB_FAILED

#define NONE COORD_CLAIM_NONE
#define INS_C COORD_CLAIM_INSERT_COMPILE
#define TAKE_C COORD_CLAIM_TAKE_COMPILE
#define INS_E COORD_CLAIM_INSERT_EXECUTE
#define TAKE_E COORD_CLAIM_TAKE_EXECUTE

#define CLAIMED COORD_FATE_CLAIMED
#define SUPERSEDED COORD_FATE_SUPERSEDED
#define MOVE_C COORD_FATE_MOVE_COMPILE
#define MOVE_E COORD_FATE_MOVE_EXECUTE

/* Capability shorthands. */
#define COMP 1
#define EXEC 2
#define BOTH 3

struct row_case {
	const char *name;
	/* input */
	int caps;
	bool compile_only, force_rebuild, has_compile_result, wasm_ok;
	enum coord_job_status cj;
	bool cj_error;
	enum coord_job_status ej;
	/* expected */
	const char *row;
	enum coord_claim_action action;
	enum coord_item_fate fate;
	bool reset;
};

/*
 * One line per row of the SPEC table.  Columns: name, caps, compile_only, force_rebuild,
 * has_compile_result, wasm_ok, CJ status, CJ has compile_error, EJ status ->
 * row, action, item fate, reset of a completed compile job.
 *
 * When row C3 applies and branch E's condition holds, "the E rows below decide": the
 * reported row is then the E row that decided (see the report for this choice).
 */
static const struct row_case cases[] = {
	/* ---- branch C: needs_compile ∧ can_compile ∧ ¬has_compile_result ---- */
	/* C1: CJ absent -> insert compile job, item claimed */
	{ "C1 compiler, binary not cached, no compile job", COMP, false, false, false, false,
	  ABSENT, false, ABSENT, "C1", INS_C, CLAIMED, false },
	{ "C1 both capabilities, binary not cached", BOTH, false, false, false, false,
	  ABSENT, false, ABSENT, "C1", INS_C, CLAIMED, false },
	{ "C1 force_rebuild with the binary cached", COMP, false, true, false, true,
	  ABSENT, false, ABSENT, "C1", INS_C, CLAIMED, false },
	{ "C1 compile_only without result, binary cached (needs_compile, §7)", COMP, true, false,
	  false, true, ABSENT, false, ABSENT, "C1", INS_C, CLAIMED, false },
	/* C2: CJ pending -> take over */
	{ "C2 compile job pending", COMP, false, false, false, false,
	  PENDING, false, ABSENT, "C2", TAKE_C, CLAIMED, false },
	{ "C2 compile job pending (it had failed before: compile_error set)", BOTH, false,
	  false, false, false, PENDING, true, ABSENT, "C2", TAKE_C, CLAIMED, false },
	/* C2: CJ completed ∧ ¬wasm_ok (binary evicted) -> take over */
	{ "C2 compile job completed but its binary was evicted", COMP, false, false, false,
	  false, COMPLETED, false, ABSENT, "C2", TAKE_C, CLAIMED, false },
	{ "C2 evicted binary, worker can also execute", BOTH, false, false, false, false,
	  COMPLETED, false, PENDING, "C2", TAKE_C, CLAIMED, false },
	/* C3: otherwise, and branch E's condition false -> none, superseded */
	{ "C3 compiler only, compile job in progress", COMP, false, false, false, false,
	  IN_PROGRESS, false, ABSENT, "C3", NONE, SUPERSEDED, false },
	{ "C3 compiler only, compile job failed", COMP, false, false, false, false,
	  FAILED, true, ABSENT, "C3", NONE, SUPERSEDED, false },
	{ "C3 compiler only, force_rebuild, compile job completed (binary cached)", COMP,
	  false, true, false, true, COMPLETED, false, ABSENT, "C3", NONE, SUPERSEDED, false },
	{ "C3 both caps but compile_only without result: branch E false", BOTH, true, false,
	  false, false, IN_PROGRESS, false, ABSENT, "C3", NONE, SUPERSEDED, false },
	/* C3 with branch E's condition true: the E rows decide */
	{ "C3->E3 both caps, compile job in progress", BOTH, false, false, false, false,
	  IN_PROGRESS, false, ABSENT, "E3", NONE, SUPERSEDED, false },
	{ "C3->E7 both caps, compile failed: an executor reports it (§7)", BOTH, false, false,
	  false, false, FAILED, true, ABSENT, "E7", INS_E, CLAIMED, false },
	{ "C3->E5 both caps, compile failed, execute job pending", BOTH, false, false, false,
	  false, FAILED, true, PENDING, "E5", TAKE_E, CLAIMED, false },
	{ "C3->E6 both caps, compile failed, execute job exists", BOTH, false, false, false,
	  false, FAILED, true, IN_PROGRESS, "E6", NONE, SUPERSEDED, false },
	{ "C3->E4 both caps, force_rebuild, compile job in progress, binary cached", BOTH,
	  false, true, false, true, IN_PROGRESS, false, ABSENT, "E4", NONE, SUPERSEDED, false },
	{ "C3->E7 both caps, force_rebuild, compile job completed, binary cached", BOTH, false,
	  true, false, true, COMPLETED, false, ABSENT, "E7", INS_E, CLAIMED, false },

	/* ---- branch E: can_execute ∧ (¬compile_only ∨ has_compile_result) ---- */
	/* E1: ¬wasm_ok ∧ ¬hcr ∧ CJ absent -> move to compile */
	{ "E1 executor, binary not cached, no compile job", EXEC, false, false, false, false,
	  ABSENT, false, ABSENT, "E1", NONE, MOVE_C, false },
	/* E2: ¬wasm_ok ∧ ¬hcr ∧ CJ ∈ {completed, pending} -> move; a completed CJ -> pending */
	{ "E2 executor, compile job completed, binary evicted", EXEC, false, false, false,
	  false, COMPLETED, false, ABSENT, "E2", NONE, MOVE_C, true },
	{ "E2 executor, compile job pending", EXEC, false, false, false, false,
	  PENDING, false, ABSENT, "E2", NONE, MOVE_C, false },
	/* E3: ¬wasm_ok ∧ ¬hcr ∧ CJ.compile_error IS NULL -> superseded */
	{ "E3 executor, compile job in progress", EXEC, false, false, false, false,
	  IN_PROGRESS, false, ABSENT, "E3", NONE, SUPERSEDED, false },
	/* E4: force_rebuild ∧ CJ present ∧ CJ ≠ completed ∧ no compile_error -> superseded */
	{ "E4 executor, force_rebuild, binary cached, compile job in progress", EXEC, false,
	  true, false, true, IN_PROGRESS, false, ABSENT, "E4", NONE, SUPERSEDED, false },
	{ "E4 executor, force_rebuild, binary cached, compile job pending", EXEC, false, true,
	  false, true, PENDING, false, ABSENT, "E4", NONE, SUPERSEDED, false },
	{ "E4 with a compile result and no binary", EXEC, false, true, true, false,
	  IN_PROGRESS, false, ABSENT, "E4", NONE, SUPERSEDED, false },
	/* E5: EJ pending -> take over */
	{ "E5 executor, binary cached, execute job pending", EXEC, false, false, false, true,
	  ABSENT, false, PENDING, "E5", TAKE_E, CLAIMED, false },
	{ "E5 after a failed compile (E1-E4 skip a compile_error)", EXEC, false, false, false,
	  false, FAILED, true, PENDING, "E5", TAKE_E, CLAIMED, false },
	/* E6: EJ present -> superseded */
	{ "E6 executor, execute job in progress", EXEC, false, false, false, true,
	  COMPLETED, false, IN_PROGRESS, "E6", NONE, SUPERSEDED, false },
	{ "E6 executor, execute job completed", EXEC, false, false, false, true,
	  ABSENT, false, COMPLETED, "E6", NONE, SUPERSEDED, false },
	{ "E6 executor, execute job failed", EXEC, false, false, false, true,
	  ABSENT, false, FAILED, "E6", NONE, SUPERSEDED, false },
	/* E7: otherwise -> insert execute job */
	{ "E7 executor, binary cached", EXEC, false, false, false, true,
	  ABSENT, false, ABSENT, "E7", INS_E, CLAIMED, false },
	{ "E7 executor, compile failed (zero-limit item reports the error)", EXEC, false, false,
	  false, false, FAILED, true, ABSENT, "E7", INS_E, CLAIMED, false },
	{ "E7 executor, compile result present, binary not cached", EXEC, false, false, true,
	  false, COMPLETED, false, ABSENT, "E7", INS_E, CLAIMED, false },
	{ "E7 compile_only with its compile result", EXEC, true, false, true, false,
	  COMPLETED, false, ABSENT, "E7", INS_E, CLAIMED, false },
	{ "E7 both caps with a compile result (branch C needs ¬hcr)", BOTH, false, false, true,
	  false, ABSENT, false, ABSENT, "E7", INS_E, CLAIMED, false },
	{ "E7 derived item after compile: force_rebuild false, binary cached", BOTH, false,
	  false, false, true, COMPLETED, false, ABSENT, "E7", INS_E, CLAIMED, false },

	/* ---- branch X ---- */
	/* X1: needs_compile ∧ ¬hcr -> move to compile, or superseded if CJ exists, not pending */
	{ "X1 executor, compile_only without result, binary cached", EXEC, true, false, false,
	  true, ABSENT, false, ABSENT, "X1", NONE, MOVE_C, false },
	{ "X1 executor, compile_only, compile job pending", EXEC, true, false, false, false,
	  PENDING, false, ABSENT, "X1", NONE, MOVE_C, false },
	{ "X1 executor, compile_only, compile job completed", EXEC, true, false, false, true,
	  COMPLETED, false, ABSENT, "X1", NONE, SUPERSEDED, false },
	{ "X1 executor, compile_only, compile job in progress", EXEC, true, false, false, false,
	  IN_PROGRESS, false, ABSENT, "X1", NONE, SUPERSEDED, false },
	{ "X1 no capability at all (not reachable through the route)", 0, false, false, false,
	  false, ABSENT, false, ABSENT, "X1", NONE, MOVE_C, false },
	/* X2: ¬can_execute -> move to execute, or superseded if EJ exists */
	{ "X2 compiler, binary cached", COMP, false, false, false, true,
	  ABSENT, false, ABSENT, "X2", NONE, MOVE_E, false },
	{ "X2 compiler, binary cached, execute job exists", COMP, false, false, false, true,
	  COMPLETED, false, IN_PROGRESS, "X2", NONE, SUPERSEDED, false },
	{ "X2 compiler, compile result present", COMP, false, false, true, false,
	  COMPLETED, false, ABSENT, "X2", NONE, MOVE_E, false },
	{ "X2 compiler, compile result present, execute job pending", COMP, true, false, true,
	  false, COMPLETED, false, PENDING, "X2", NONE, SUPERSEDED, false },
	/* X3: not reachable (checked over all inputs below) */
};

static int caps_of(int caps, bool *can_compile, bool *can_execute)
{
	*can_compile = caps & COMP;
	*can_execute = caps & EXEC;
	return 0;
}

static const char *action_name(enum coord_claim_action a)
{
	switch (a) {
	case NONE: return "none";
	case INS_C: return "insert compile";
	case TAKE_C: return "take over compile";
	case INS_E: return "insert execute";
	case TAKE_E: return "take over execute";
	}
	return "?";
}

static const char *fate_name(enum coord_item_fate f)
{
	switch (f) {
	case CLAIMED: return "claimed";
	case SUPERSEDED: return "superseded";
	case MOVE_C: return "move compile";
	case MOVE_E: return "move execute";
	}
	return "?";
}

/*
 * Reference decision, written from the SPEC table (§3.2.3) alone:
 *   needs_compile = force_rebuild ∨ ¬wasm_ok ∨ (compile_only ∧ ¬has_compile_result)
 *   branch C when needs_compile ∧ can_compile ∧ ¬has_compile_result;
 *   otherwise branch E when can_execute ∧ (¬compile_only ∨ has_compile_result);
 *   otherwise branch X.  Within a branch the first matching row wins.
 */
struct ref {
	const char *row;
	enum coord_claim_action action;
	enum coord_item_fate fate;
	bool reset;
};

static struct ref ref_e(const struct coord_claim_input *in)
{
	bool present_c = in->cj.status != ABSENT;
	bool no_binary = !in->wasm_ok && !in->has_compile_result;

	if (no_binary && !present_c)
		return (struct ref){ "E1", NONE, MOVE_C, false };
	if (no_binary && (in->cj.status == COMPLETED || in->cj.status == PENDING))
		return (struct ref){ "E2", NONE, MOVE_C, in->cj.status == COMPLETED };
	if (no_binary && !in->cj.has_compile_error)
		return (struct ref){ "E3", NONE, SUPERSEDED, false };
	if (in->force_rebuild && present_c && in->cj.status != COMPLETED &&
	    !in->cj.has_compile_error)
		return (struct ref){ "E4", NONE, SUPERSEDED, false };
	if (in->ej.status == PENDING)
		return (struct ref){ "E5", TAKE_E, CLAIMED, false };
	if (in->ej.status != ABSENT)
		return (struct ref){ "E6", NONE, SUPERSEDED, false };
	return (struct ref){ "E7", INS_E, CLAIMED, false };
}

static struct ref ref_decide(const struct coord_claim_input *in)
{
	bool needs_compile = in->force_rebuild || !in->wasm_ok ||
			     (in->compile_only && !in->has_compile_result);
	bool branch_e = in->can_execute && (!in->compile_only || in->has_compile_result);

	if (needs_compile && in->can_compile && !in->has_compile_result) {
		if (in->cj.status == ABSENT)
			return (struct ref){ "C1", INS_C, CLAIMED, false };
		if (in->cj.status == PENDING || (in->cj.status == COMPLETED && !in->wasm_ok))
			return (struct ref){ "C2", TAKE_C, CLAIMED, false };
		if (branch_e)
			return ref_e(in);
		return (struct ref){ "C3", NONE, SUPERSEDED, false };
	}
	if (branch_e)
		return ref_e(in);
	if (needs_compile && !in->has_compile_result) {
		bool done_c = in->cj.status != ABSENT && in->cj.status != PENDING;
		return (struct ref){ "X1", NONE, done_c ? SUPERSEDED : MOVE_C, false };
	}
	if (!in->can_execute)
		return (struct ref){ "X2", NONE, in->ej.status != ABSENT ? SUPERSEDED : MOVE_E,
				     false };
	return (struct ref){ "X3", NONE, SUPERSEDED, false };
}

static void describe(char *buf, size_t n, const struct coord_claim_input *in)
{
	static const char *st[] = { "absent", "pending", "in_progress", "completed", "failed" };
	snprintf(buf, n,
		 "compile=%d execute=%d compile_only=%d force_rebuild=%d hcr=%d wasm_ok=%d "
		 "CJ=%s%s EJ=%s%s",
		 in->can_compile, in->can_execute, in->compile_only, in->force_rebuild,
		 in->has_compile_result, in->wasm_ok, st[in->cj.status],
		 in->cj.has_compile_error ? "+error" : "", st[in->ej.status],
		 in->ej.has_compile_error ? "+error" : "");
}

static bool same_row(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int main(void)
{
	size_t i;

	/* ---- part 1: the table ---- */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct row_case *c = &cases[i];
		struct coord_claim_input in;
		struct coord_claim_decision d;

		memset(&in, 0, sizeof(in));
		caps_of(c->caps, &in.can_compile, &in.can_execute);
		in.compile_only = c->compile_only;
		in.force_rebuild = c->force_rebuild;
		in.has_compile_result = c->has_compile_result;
		in.wasm_ok = c->wasm_ok;
		in.cj.status = c->cj;
		in.cj.has_compile_error = c->cj_error;
		in.ej.status = c->ej;
		memset(&d, 0x5a, sizeof(d)); /* the function must set every field */
		d.row = NULL;
		coord_claim_decide(&in, &d);

		ok(same_row(d.row, c->row), "%s: row %s (got %s)", c->name, c->row,
		   d.row ? d.row : "NULL");
		ok(d.action == c->action, "%s: job %s (got %s)", c->name, action_name(c->action),
		   action_name(d.action));
		ok(d.fate == c->fate, "%s: item %s (got %s)", c->name, fate_name(c->fate),
		   fate_name(d.fate));
		ok(d.reset_compile_job == c->reset, "%s: reset of the compile job %s", c->name,
		   c->reset ? "yes" : "no");
	}

	/* ---- part 2: every combination against the reference ---- */
	int combos = 0, mismatches = 0, reached_x3 = 0, job_fate_mismatch = 0, bad_reset = 0;
	int rows_seen[32] = { 0 };
	static const char *all_rows[] = { "C1", "C2", "C3", "E1", "E2", "E3", "E4",
					  "E5", "E6", "E7", "X1", "X2" };
	for (int bits = 0; bits < 64; bits++) {
		for (int cjs = ABSENT; cjs <= FAILED; cjs++) {
			for (int cje = 0; cje < 2; cje++) {
				for (int ejs = ABSENT; ejs <= FAILED; ejs++) {
					for (int eje = 0; eje < 2; eje++) {
						struct coord_claim_input in;
						struct coord_claim_decision d;
						struct ref r;

						memset(&in, 0, sizeof(in));
						in.can_compile = bits & 1;
						in.can_execute = bits & 2;
						in.compile_only = bits & 4;
						in.force_rebuild = bits & 8;
						in.has_compile_result = bits & 16;
						in.wasm_ok = bits & 32;
						in.cj.status = cjs;
						in.cj.has_compile_error = cje;
						in.ej.status = ejs;
						in.ej.has_compile_error = eje;
						memset(&d, 0, sizeof(d));
						coord_claim_decide(&in, &d);
						r = ref_decide(&in);
						combos++;
						if (!same_row(d.row, r.row) || d.action != r.action ||
						    d.fate != r.fate || d.reset_compile_job != r.reset) {
							char buf[256];
							if (mismatches < 10) {
								describe(buf, sizeof(buf), &in);
								printf("# mismatch: %s: expected %s/%s/%s%s, got %s/%s/%s%s\n",
								       buf, r.row, action_name(r.action),
								       fate_name(r.fate), r.reset ? "/reset" : "",
								       d.row ? d.row : "NULL",
								       action_name(d.action), fate_name(d.fate),
								       d.reset_compile_job ? "/reset" : "");
							}
							mismatches++;
						}
						if (same_row(d.row, "X3"))
							reached_x3++;
						/* a job is returned iff the item is claimed (§3.1 "Claim") */
						if ((d.action != NONE) != (d.fate == CLAIMED))
							job_fate_mismatch++;
						/* only E2 resets a compile job, and only a completed one */
						if (d.reset_compile_job &&
						    !(same_row(d.row, "E2") && cjs == COMPLETED))
							bad_reset++;
						for (size_t k = 0; k < sizeof(all_rows) / sizeof(all_rows[0]); k++)
							if (same_row(d.row, all_rows[k]))
								rows_seen[k]++;
					}
				}
			}
		}
	}
	ok(mismatches == 0, "all %d input combinations decide as the SPEC table (%d differ)",
	   combos, mismatches);
	ok(reached_x3 == 0, "row X3 is never reached (§3.2.3: compile-only without result meets X1)");
	ok(job_fate_mismatch == 0, "a job is returned exactly when the item is claimed (%d cases differ)",
	   job_fate_mismatch);
	ok(bad_reset == 0, "only E2 with a completed compile job resets it (%d cases differ)",
	   bad_reset);
	for (size_t k = 0; k < sizeof(all_rows) / sizeof(all_rows[0]); k++)
		ok(rows_seen[k] > 0, "row %s is reachable", all_rows[k]);

	/* The execute job's status never influences branch C rows C1/C2 (§3.2.3). */
	{
		int bad = 0;
		for (int ejs = ABSENT; ejs <= FAILED; ejs++) {
			struct coord_claim_input in;
			struct coord_claim_decision d;
			memset(&in, 0, sizeof(in));
			in.can_compile = in.can_execute = true;
			in.cj.status = ABSENT;
			in.ej.status = ejs;
			coord_claim_decide(&in, &d);
			if (!same_row(d.row, "C1") || d.action != INS_C)
				bad++;
		}
		ok(bad == 0, "C1 applies whatever the execute job's status");
	}
	return tap_done();
}
