// Typed wrappers around libcurl's variadic curl_easy_setopt / curl_easy_getinfo, which
// Swift cannot call directly. One function per argument type; the option constants come
// from <curl/curl.h> itself, so no option list is duplicated here.
#ifndef MPOLICE_CCURLSHIM_H
#define MPOLICE_CCURLSHIM_H

#include <curl/curl.h>
/* epoll for the multi-socket interface's event loop (Swift's Glibc module leaves it out). */
#include <sys/epoll.h>

typedef size_t (*mp_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef int (*mp_curl_progress_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                         curl_off_t ultotal, curl_off_t ulnow);

typedef int (*mp_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

CURLcode mp_curl_setopt_debug_callback(CURL *handle, mp_curl_debug_callback callback);
CURLcode mp_curl_getinfo_certinfo(CURL *handle, struct curl_certinfo **value);
CURLcode mp_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode mp_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode mp_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode mp_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode mp_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
/// CURLOPT_WRITEFUNCTION or CURLOPT_HEADERFUNCTION.
CURLcode mp_curl_setopt_data_callback(CURL *handle, CURLoption option, mp_curl_data_callback callback);
/// CURLOPT_XFERINFOFUNCTION.
CURLcode mp_curl_setopt_progress_callback(CURL *handle, mp_curl_progress_callback callback);

CURLcode mp_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode mp_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode mp_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
CURLcode mp_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);

/// curl_multi_setopt with a long (CURLMOPT_MAXCONNECTS, CURLMOPT_MAX_TOTAL_CONNECTIONS, …).
CURLMcode mp_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
/// curl_share_setopt with a long (CURLSHOPT_SHARE, CURLSHOPT_UNSHARE).
CURLSHcode mp_curl_share_setopt_long(CURLSH *share, CURLSHoption option, long value);
/// curl_multi_setopt with a pointer (CURLMOPT_SOCKETDATA, CURLMOPT_TIMERDATA).
CURLMcode mp_curl_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value);

typedef int (*mp_curl_socket_callback)(CURL *easy, curl_socket_t socket, int what, void *userp, void *socketp);
typedef int (*mp_curl_timer_callback)(CURLM *multi, long timeout_ms, void *userp);
/// CURLMOPT_SOCKETFUNCTION: which sockets to watch for what (curl_multi_socket_action).
CURLMcode mp_curl_multi_setopt_socket_callback(CURLM *multi, mp_curl_socket_callback callback);
/// CURLMOPT_TIMERFUNCTION: when to call curl_multi_socket_action with CURL_SOCKET_TIMEOUT.
CURLMcode mp_curl_multi_setopt_timer_callback(CURLM *multi, mp_curl_timer_callback callback);

/// curl_version_info(CURLVERSION_NOW): the macro is not visible to Swift.
const curl_version_info_data *mp_curl_version_info(void);

#endif
