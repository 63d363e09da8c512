/* Unit tests of the pure parts of coord_metrics: label escaping, rendering the hash. */
#include <string.h>

#include "coord_buf.h"
#include "coord_metrics.h"
#include "tap.h"
#include "banned.h"

static void test_labels(void)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{ "/jobs/claim", "route=\"/jobs/claim\"" },
		{ "", "route=\"\"" },
		{ "a\"b", "route=\"a\\\"b\"" },
		{ "a\\b", "route=\"a\\\\b\"" },
		{ "a\nb", "route=\"a\\nb\"" },
		{ "\\\"\n", "route=\"\\\\\\\"\\n\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct coord_buf b = COORD_BUF_INIT;
		coord_metrics_label(&b, "route", cases[i].value);
		ok(strcmp(coord_buf_str(&b), cases[i].want) == 0, "label %s -> %s",
		   show(cases[i].value, strlen(cases[i].value)), show(b.ptr, b.len));
		coord_buf_release(&b);
	}
}

/* True when text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define H "coordinator_http_request_duration_seconds"
#define L "{program=\"worker\",route=\"/jobs/claim\""

static void test_render(void)
{
	/* per-bucket counts as flushed: 2 at 1 ms, 3 at 0.05 s, 1 above 300 s (only _count) */
	const char *fields[] = {
		"coordinator_http_requests_total{program=\"worker\",route=\"/jobs/claim\",status=\"200\"}",
		H "_bucket" L ",le=\"0.001\"}",
		H "_bucket" L ",le=\"0.05\"}",
		H "_sum" L "}",
		H "_count" L "}",
		"coordinator_wasm_downloads_total",
		"coordinator_unknown_total{x=\"1\"}",
		"coordinator_rate_limited_total{class=\"api\"}",
		"coordinator_rate_limited_total{class=\"key\"}\nevil 1",
		"coordinator_reaper_actions_total{action=\"items_dead\"}",
	};
	const char *values[] = { "6", "2", "3", "300.152", "6", "7", "9", "not-a-number", "1", "4" };
	struct coord_buf out = COORD_BUF_INIT;
	coord_metrics_render_counters(&out, sizeof(fields) / sizeof(fields[0]), fields, values);
	const char *t = coord_buf_str(&out);

	ok(has_line(t, "# TYPE coordinator_http_requests_total counter"), "TYPE of the requests");
	ok(has_line(t, "# TYPE " H " histogram"), "TYPE of the histogram");
	ok(has_line(t, "coordinator_http_requests_total{program=\"worker\",route=\"/jobs/claim\","
		       "status=\"200\"} 6"),
	   "a counter sample");
	ok(has_line(t, H "_bucket" L ",le=\"0.001\"} 2"), "first bucket");
	ok(has_line(t, H "_bucket" L ",le=\"0.025\"} 2"), "a bucket without a field: the sum so far");
	ok(has_line(t, H "_bucket" L ",le=\"0.05\"} 5"), "buckets are cumulative");
	ok(has_line(t, H "_bucket" L ",le=\"300\"} 5"), "last finite bucket");
	ok(has_line(t, H "_bucket" L ",le=\"+Inf\"} 6"), "+Inf is the _count");
	ok(has_line(t, H "_sum" L "} 300.152"), "_sum");
	ok(has_line(t, H "_count" L "} 6"), "_count");
	ok(has_line(t, "coordinator_wasm_downloads_total 7"), "a counter without labels");
	ok(has_line(t, "coordinator_reaper_actions_total{action=\"items_dead\"} 4"), "reaper");
	ok(!strstr(t, "coordinator_unknown_total"), "an unknown family is left out");
	ok(!strstr(t, "not-a-number") && !strstr(t, "class=\"api\""), "a non-number is left out");
	ok(!strstr(t, "evil"), "a field holding a newline is left out");
	/* the histogram's buckets come in the order of their bounds, then _sum and _count */
	const char *b1 = strstr(t, "le=\"0.0025\"}"), *b2 = strstr(t, "le=\"0.005\"}");
	const char *b3 = strstr(t, "le=\"10\"}"), *b4 = strstr(t, "le=\"2.5\"}");
	const char *s = strstr(t, H "_sum");
	ok(b1 && b2 && b3 && b4 && s && b1 < b2 && b4 < b3 && b3 < s, "bucket order");
	coord_buf_release(&out);

	struct coord_buf empty = COORD_BUF_INIT;
	coord_metrics_render_counters(&empty, 0, NULL, NULL);
	ok(has_line(coord_buf_str(&empty), "# TYPE coordinator_rate_limited_total counter") &&
		   !strchr(coord_buf_str(&empty), '{'),
	   "no field: HELP and TYPE lines only");
	coord_buf_release(&empty);
}

int main(void)
{
	test_labels();
	test_render();
	return tap_done();
}
