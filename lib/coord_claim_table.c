/* The claim decision table of SPEC §3.2.3 (rows C1-X3): a pure function. */
#include <string.h>

#include "coord_jobs.h"
#include "banned.h"

static void decide_e(const struct coord_claim_input *in, struct coord_claim_decision *d)
{
	bool blocked = !in->wasm_ok && !in->has_compile_result;
	const struct coord_claim_job *cj = &in->cj, *ej = &in->ej;

	if (blocked && cj->status == COORD_JOB_ABSENT) {
		d->row = "E1";
		d->fate = COORD_FATE_MOVE_COMPILE;
	} else if (blocked && (cj->status == COORD_JOB_COMPLETED || cj->status == COORD_JOB_PENDING)) {
		d->row = "E2";
		d->fate = COORD_FATE_MOVE_COMPILE;
		d->reset_compile_job = cj->status == COORD_JOB_COMPLETED;
	} else if (blocked && !cj->has_compile_error) {
		d->row = "E3";
		d->fate = COORD_FATE_SUPERSEDED;
	} else if (in->force_rebuild && cj->status != COORD_JOB_ABSENT &&
		   cj->status != COORD_JOB_COMPLETED && !cj->has_compile_error) {
		d->row = "E4";
		d->fate = COORD_FATE_SUPERSEDED;
	} else if (ej->status == COORD_JOB_PENDING) {
		d->row = "E5";
		d->action = COORD_CLAIM_TAKE_EXECUTE;
	} else if (ej->status != COORD_JOB_ABSENT) {
		d->row = "E6";
		d->fate = COORD_FATE_SUPERSEDED;
	} else {
		d->row = "E7";
		d->action = COORD_CLAIM_INSERT_EXECUTE;
	}
}

void coord_claim_decide(const struct coord_claim_input *in, struct coord_claim_decision *d)
{
	bool needs_compile = in->force_rebuild || !in->wasm_ok ||
			     (in->compile_only && !in->has_compile_result);
	bool branch_e = in->can_execute && (!in->compile_only || in->has_compile_result);

	memset(d, 0, sizeof(*d));
	d->action = COORD_CLAIM_NONE;
	d->fate = COORD_FATE_CLAIMED;
	if (needs_compile && in->can_compile && !in->has_compile_result) {
		if (in->cj.status == COORD_JOB_ABSENT) {
			d->row = "C1";
			d->action = COORD_CLAIM_INSERT_COMPILE;
		} else if (in->cj.status == COORD_JOB_PENDING ||
			   (in->cj.status == COORD_JOB_COMPLETED && !in->wasm_ok)) {
			d->row = "C2";
			d->action = COORD_CLAIM_TAKE_COMPILE;
		} else if (branch_e) {
			decide_e(in, d);
		} else {
			d->row = "C3";
			d->fate = COORD_FATE_SUPERSEDED;
		}
	} else if (branch_e) {
		decide_e(in, d);
	} else if (needs_compile && !in->has_compile_result) {
		d->row = "X1";
		d->fate = (in->cj.status != COORD_JOB_ABSENT && in->cj.status != COORD_JOB_PENDING)
				  ? COORD_FATE_SUPERSEDED : COORD_FATE_MOVE_COMPILE;
	} else if (!in->can_execute) {
		d->row = "X2";
		d->fate = in->ej.status != COORD_JOB_ABSENT ? COORD_FATE_SUPERSEDED
							      : COORD_FATE_MOVE_EXECUTE;
	} else {
		d->row = "X3";
		d->fate = COORD_FATE_SUPERSEDED;
	}
	if (d->action != COORD_CLAIM_NONE)
		d->fate = COORD_FATE_CLAIMED;
}
