#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "coord_httpc.h"
#include "banned.h"

void coord_httpc_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct coord_buf *b = userdata;
	size_t n = size * nmemb;
	if (b->len + n > COORD_HTTPC_MAX_BODY)
		return 0; /* aborts the transfer */
	coord_buf_add(b, ptr, n);
	return n;
}

enum coord_err coord_httpc_request(const char *url, const char *const *headers, const char *body,
				   size_t body_len, long timeout_ms,
				   struct coord_httpc_response *resp, char *err, size_t errlen)
{
	enum coord_err status = COORD_ERR_UPSTREAM;
	struct curl_slist *list = NULL;
	CURL *c = curl_easy_init();

	coord_buf_init(&resp->body);
	resp->status = 0;
	if (!c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return COORD_ERR_INTERNAL;
	}
	for (const char *const *h = headers; h && *h; h++)
		list = curl_slist_append(list, *h);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp->body);
	if (list)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		status = COORD_OK;
	} else {
		snprintf(err, errlen, "%s", rc == CURLE_WRITE_ERROR ? "response too large"
								    : curl_easy_strerror(rc));
		coord_buf_release(&resp->body);
	}
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	return status;
}
