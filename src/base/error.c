/* Names of error codes, and the library version. */
#include "xtalk/common.h"

const char *xt_strerror(int code)
{
    switch (code) {
    case XT_OK: return "success";
    case XT_ENOMEM: return "out of memory";
    case XT_EINVAL: return "invalid argument";
    case XT_EPROTO: return "protocol violation by the peer";
    case XT_EXML: return "malformed or restricted XML";
    case XT_ETLS: return "TLS failure";
    case XT_ECERT: return "server certificate not trusted";
    case XT_EAUTH: return "authentication failed";
    case XT_ESTREAM: return "stream error from the server";
    case XT_ECLOSED: return "connection closed";
    case XT_EDNS: return "name resolution failed";
    case XT_ECONNECT: return "could not connect";
    case XT_ETIMEOUT: return "timed out";
    case XT_EIO: return "I/O error";
    case XT_ETOOBIG: return "size limit exceeded";
    case XT_EJID: return "invalid JID";
    case XT_ESTATE: return "not possible in the current state";
    case XT_EUNSUPPORTED: return "not supported by the server";
    case XT_ENOTLS: return "server does not offer TLS, which is required";
    case XT_ESTANZA: return "request refused with a stanza error";
    case XT_EREDIRECT: return "server redirects to another host";
    case XT_ECANCELED: return "canceled";
    case XT_ENOTFOUND: return "not found";
    case XT_EDOWNGRADE: return "server authentication failed (possible downgrade or impostor)";
    case XT_ENONAME: return "name resolution failed: no such name";
    default: return "unknown error";
    }
}

const char *xt_version(void)
{
    return XT_VERSION_STRING;
}
