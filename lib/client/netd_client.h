/* The C API of netd's client library. Every function returns 0 (or an fd) on success and
 * -errno on failure; netd_last_error() then says why in words. */
#ifndef NETD_CLIENT_H
#define NETD_CLIENT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct netd_client netd_client;

/* Connects to netd. path NULL: $NETD_SOCKET, else /run/netd/netd.sock. NULL on failure
 * (errno set). */
netd_client* netd_open(const char* path);
void netd_close(netd_client* client);

/* The reason of the last failed call on this client ("" if none). Valid until the next call. */
const char* netd_last_error(const netd_client* client);

/* A raw Varlink call: params_json is a JSON object (NULL: {}). On success *reply_json is a
 * malloc'd JSON object the caller frees. Up to 16 fds travel each way; *n_fds_out gets how many
 * came back (their ownership passes to the caller). */
int netd_call(netd_client* client, const char* method, const char* params_json, char** reply_json,
              const int* fds_in, int n_fds_in, int* fds_out, int* n_fds_out);

/* Routes into the caller's slice table. dst "ADDR/LEN"; gateway, dev, src may be NULL. */
int netd_route_add(netd_client* client, const char* dst, const char* gateway, const char* dev,
                   const char* src);
int netd_route_del(netd_client* client, const char* dst, const char* gateway, const char* dev);

#ifdef __cplusplus
}
#endif

#endif /* NETD_CLIENT_H */
