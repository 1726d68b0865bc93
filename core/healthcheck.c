/* `sluice healthcheck`: asks a running sluice's self-monitoring endpoint
 * (/health) whether every output is delivering, for container HEALTHCHECKs
 * and probes on images that carry no curl. Exit 0 healthy, 1 failing or
 * unreachable. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "healthcheck.h"

void
healthcheck_connect_address(const char *listen, char *out, size_t size)
{
    if (strncmp(listen, "0.0.0.0:", 8) == 0)
        snprintf(out, size, "127.0.0.1:%s", listen + 8);
    else if (strncmp(listen, "*:", 2) == 0)
        snprintf(out, size, "127.0.0.1:%s", listen + 2);
    else if (strncmp(listen, "[::]:", 5) == 0)
        snprintf(out, size, "[::1]:%s", listen + 5);
    else if (listen[0] == ':')
        snprintf(out, size, "127.0.0.1%s", listen);
    else
        snprintf(out, size, "%s", listen);
}

static size_t
print_body(char *data, size_t size, size_t n, void *arg)
{
    return fwrite(data, size, n, arg);
}

int
healthcheck(const char *listen, long timeout_ms)
{
    char addr[300], url[340];
    healthcheck_connect_address(listen, addr, sizeof addr);
    snprintf(url, sizeof url, "http://%s/health", addr);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sluice: healthcheck: libcurl did not initialise\n");
        return 1;
    }
    CURL *h = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (h) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, print_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, stdout);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
    }
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        fprintf(stderr, "sluice: healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "sluice: healthcheck: %s answered %ld\n", url, status);
        return 1;
    }
    return 0;
}
