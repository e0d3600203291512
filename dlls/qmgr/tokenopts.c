/* IBitsTokenOptions (bits4_0.h): a second token for a job, the "helper token", and the usage
 * flags that say what it is for (BG_TOKEN_LOCAL_FILE, BG_TOKEN_NETWORK).  A tear-off of the
 * job object: job.c's QueryInterface makes one per call, here, and every other interface is
 * the job's.  The token and the flags are the engine's job data, so every object of the job
 * sees them.
 *
 * Rights (the five method pages and "Helper Tokens for BITS Transfer Jobs", as of Windows 10
 * 1607): the access check belongs to QueryInterface, not to the calls, because a client
 * impersonates the helper identity to call SetHelperToken and is then not the owner.  So the
 * object records who asked for it: an administrator may do everything; the job's owner may
 * read the flags and the SID and clear the token, set a token that has no Administrators SID
 * enabled (else E_ACCESSDENIED, documented) and set the flags while no such token is set (the
 * error, E_ACCESSDENIED, is inferred).  Anyone else gets no interface (E_ACCESSDENIED,
 * inferred: the pages do not say what an outsider's QueryInterface returns).
 *
 * Inferred where the pages say nothing: unknown flag bits give E_INVALIDARG; the three setters
 * return BG_E_INVALID_STATE in a final state (behaviour.md §0.3, like every other setter), the
 * getters still answer; a new token or a cleared one is a modification of the job (its time,
 * JobModification).
 *
 * Lifetime: the token is not persistent (SetHelperToken's page: it is valid for the session,
 * and BITS discards it when the owner logs off), so it lives only in the engine and a restart
 * of the service drops it.  The flags are kept with the job and saved: the concept page has
 * BITS store flags and token in the job, and a job whose token was discarded keeps needing
 * one (BG_E_TOKEN_REQUIRED) until the client sets a new token or clears the flags, which only
 * makes sense if the flags outlive the token.  TakeOwnership keeps both: its page lists what
 * it removes (credentials, certificate, custom headers, notify command line), not this.
 *
 * Not done yet: the transfers do not impersonate anyone (README), so neither the helper token
 * nor the flags change what they do; nothing discards the token at the owner's log-off (there
 * is no such notification under Wine), and no job fails with BG_E_TOKEN_REQUIRED, nor with
 * ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY for BG_TOKEN_NETWORK with a client
 * certificate and an owner other than LocalSystem (SetHelperTokenFlags' page).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdlib.h>

#include "qmgr_private.h"

DEFAULT_DEBUG_CHANNEL(qmgr);

#define VALID_TOKEN_FLAGS (BG_TOKEN_LOCAL_FILE | BG_TOKEN_NETWORK)

struct token_options
{
    IBitsTokenOptions IBitsTokenOptions_iface;
    LONG refcount;
    IUnknown *job;                  /* the job object: one reference, for every other iid */
    struct engine_job *engine_job;  /* the job object's, valid while job is held */
    BOOL admin;                     /* who called QueryInterface: an administrator, or else the
                                     * job's owner (see above) */
};

static inline struct token_options *impl_from_IBitsTokenOptions(IBitsTokenOptions *iface)
{
    return CONTAINING_RECORD(iface, struct token_options, IBitsTokenOptions_iface);
}

static HRESULT WINAPI token_options_QueryInterface(IBitsTokenOptions *iface, REFIID riid,
                                                   void **out)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);

    TRACE("options %p, riid %s, out %p\n", options, debugstr_guid(riid), out);
    if (!out) return E_POINTER;
    if (IsEqualGUID(riid, &IID_IBitsTokenOptions))
    {
        *out = iface;
        IBitsTokenOptions_AddRef(iface);
        return S_OK;
    }
    /* The job is the object's identity: IUnknown too comes from it. */
    return IUnknown_QueryInterface(options->job, riid, out);
}

static ULONG WINAPI token_options_AddRef(IBitsTokenOptions *iface)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);
    ULONG refcount = InterlockedIncrement(&options->refcount);

    TRACE("options %p, refcount %lu\n", options, refcount);
    return refcount;
}

static ULONG WINAPI token_options_Release(IBitsTokenOptions *iface)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);
    ULONG refcount = InterlockedDecrement(&options->refcount);

    TRACE("options %p, refcount %lu\n", options, refcount);
    if (!refcount)
    {
        IUnknown_Release(options->job);
        free(options);
    }
    return refcount;
}

/* SetHelperTokenFlags' page: the owner may set the flags as long as the helper token set, if
 * any, has no Administrators SID enabled. */
static HRESULT WINAPI token_options_SetHelperTokenFlags(IBitsTokenOptions *iface, DWORD flags)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);
    struct job_props *props;
    HRESULT hr;

    TRACE("options %p, flags %#lx\n", options, flags);
    if (flags & ~VALID_TOKEN_FLAGS) return E_INVALIDARG;
    hr = engine_job_lock_for_change(options->engine_job, &props);
    if (FAILED(hr)) return hr;
    if (!options->admin && engine_job_helper_token(options->engine_job)->admin)
    {
        engine_job_unlock(options->engine_job);
        WARN("the helper token is an administrator's, the caller is not\n");
        return E_ACCESSDENIED;
    }
    props->helper_token_flags = flags;
    engine_job_commit(options->engine_job);
    return S_OK;
}

static HRESULT WINAPI token_options_GetHelperTokenFlags(IBitsTokenOptions *iface, DWORD *flags)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);

    TRACE("options %p, flags %p\n", options, flags);
    if (!flags) return E_INVALIDARG;
    *flags = engine_job_lock(options->engine_job)->helper_token_flags;
    engine_job_unlock(options->engine_job);
    return S_OK;
}

/* SetHelperToken's page: the token of the COM client, which replaces any set before; the
 * owner may set one that has no Administrators SID enabled. */
static HRESULT WINAPI token_options_SetHelperToken(IBitsTokenOptions *iface)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);
    struct helper_token helper;
    struct job_props *props;
    HRESULT hr;

    TRACE("options %p\n", options);
    /* Before the lock: it reads the caller's token. */
    hr = security_get_helper_token(&helper);
    if (FAILED(hr)) return hr;
    if (helper.admin && !options->admin)
    {
        WARN("an administrator's token from a caller who is not one\n");
        security_free_helper_token(&helper);
        return E_ACCESSDENIED;
    }
    hr = engine_job_lock_for_change(options->engine_job, &props);
    if (FAILED(hr))
    {
        security_free_helper_token(&helper);
        return hr;
    }
    engine_job_swap_helper_token(options->engine_job, &helper);
    engine_job_commit(options->engine_job);
    security_free_helper_token(&helper);  /* the old one */
    return S_OK;
}

/* ClearHelperToken's page: the token goes, the flags stay. */
static HRESULT WINAPI token_options_ClearHelperToken(IBitsTokenOptions *iface)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);
    struct helper_token helper = { 0 };
    struct job_props *props;
    HRESULT hr;

    TRACE("options %p\n", options);
    hr = engine_job_lock_for_change(options->engine_job, &props);
    if (FAILED(hr)) return hr;
    if (!engine_job_helper_token(options->engine_job)->token)
    {
        engine_job_unlock(options->engine_job);
        return S_OK;
    }
    engine_job_swap_helper_token(options->engine_job, &helper);
    engine_job_commit(options->engine_job);
    security_free_helper_token(&helper);
    return S_OK;
}

/* GetHelperTokenSid's page: the SID of the token's user, or NULL when no token is set. */
static HRESULT WINAPI token_options_GetHelperTokenSid(IBitsTokenOptions *iface, LPWSTR *sid)
{
    struct token_options *options = impl_from_IBitsTokenOptions(iface);
    HRESULT hr;

    TRACE("options %p, sid %p\n", options, sid);
    if (!sid) return E_INVALIDARG;
    engine_job_lock(options->engine_job);
    hr = cotask_strdup(engine_job_helper_token(options->engine_job)->sid_string, sid);
    engine_job_unlock(options->engine_job);
    return hr;
}

static const IBitsTokenOptionsVtbl token_options_vtbl =
{
    token_options_QueryInterface,
    token_options_AddRef,
    token_options_Release,
    /* IBitsTokenOptions */
    token_options_SetHelperTokenFlags,
    token_options_GetHelperTokenFlags,
    token_options_SetHelperToken,
    token_options_ClearHelperToken,
    token_options_GetHelperTokenSid,
};

HRESULT token_options_create(IUnknown *job, struct engine_job *engine_job, void **out)
{
    struct token_options *options;
    BOOL admin, owner;
    PSID sid;
    HRESULT hr;

    *out = NULL;
    hr = security_get_caller(&sid, &admin);
    if (FAILED(hr)) return hr;
    owner = engine_job_owned_by(engine_job, sid);
    free(sid);
    if (!admin && !owner)
    {
        WARN("job %s: neither its owner nor an administrator\n",
             debugstr_guid(engine_job_id(engine_job)));
        return E_ACCESSDENIED;
    }
    options = calloc(1, sizeof(*options));
    if (!options) return E_OUTOFMEMORY;
    options->IBitsTokenOptions_iface.lpVtbl = &token_options_vtbl;
    options->refcount = 1;
    options->job = job;
    IUnknown_AddRef(job);
    options->engine_job = engine_job;
    options->admin = admin;
    TRACE("created options %p for %s, %s\n", options, debugstr_guid(engine_job_id(engine_job)),
          admin ? "administrator" : "owner");
    *out = &options->IBitsTokenOptions_iface;
    return S_OK;
}
