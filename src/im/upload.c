/*
 * XEP-0363 HTTP File Upload: finding the service and asking for a slot
 * (sans-I/O, over xt_conn_iq). Stubs until the implementation lands.
 */
#include "xtalk/upload.h"

int xt_upload_discover(xt_conn *c, xt_upload_service_fn cb, void *ud)
{
    (void)c, (void)cb, (void)ud;
    return XT_EUNSUPPORTED;
}

const xt_upload_service *xt_conn_upload_service(const xt_conn *c)
{
    (void)c;
    return NULL;
}

int xt_upload_request_slot(xt_conn *c, const char *service, const char *filename, uint64_t size,
                           const char *content_type, xt_upload_slot_fn cb, void *ud)
{
    (void)c, (void)service, (void)filename, (void)size, (void)content_type, (void)cb, (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_oob_get(const xt_stanza *msg, xt_oob *out)
{
    (void)msg, (void)out;
    return 0;
}
