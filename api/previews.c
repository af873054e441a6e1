/*
 * previews.c: the preview routes (DESIGN.md 6.7, proto/openapi.yaml):
 *   POST /v1/assets/{id}/preview          bearer key that may see the asset -> 201 token, URLs
 *   GET  /v1/assets/{id}/preview/model    ?token=: the watermarked preview GLB (no bearer)
 *   GET  /v1/assets/{id}/preview/viewer   ?token=: a three.js page showing it
 *   GET  /web/three/...                   three.js and its decoders from the npm package
 *   POST /v1/ops/trace                    ?asset=&filename=, the suspect file as the body (ops)
 * The token is the credential of the model and viewer URLs: tampered or unknown -> 401
 * invalid_token, expired -> 401 token_expired, another asset's -> 403 wrong_asset.
 * The web root is LODESTONE_WEB_ROOT (default: the checkout's tools/node_modules); only
 * three/build/ and three/examples/jsm/ are served from it.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_internal.h"
#include "ingest.h"
#include "proto.h"

#define TRACE_ALPHA 1e-6
#define MAX_SUSPECT_BYTES (512ull << 20)

/* A malloc'd formatted string, or NULL. */
static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out) {
        va_start(ap, fmt);
        vsnprintf(out, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return out;
}

static lds_preview_keys *preview_keys(lds_api *api, lds_error *err)
{
    pthread_mutex_lock(&api->preview_lock);
    if (api->preview_keys == NULL)
        lds_preview_keys_open(api->home, &api->preview_keys, err);
    lds_preview_keys *keys = api->preview_keys;
    pthread_mutex_unlock(&api->preview_lock);
    return keys;
}

/* Only the base64url alphabet and dots reach a page or a log. */
static int token_chars_ok(const char *token)
{
    for (const char *p = token; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            return 0;
    return 1;
}

enum MHD_Result api_preview_post(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *record;
    enum MHD_Result ret;
    if (api_load_record(api, c, req, &record, &ret) != MHD_YES)
        return ret;
    const char *status = json_string_value(json_object_get(record, "status"));
    if (status == NULL || strcmp(status, "ready") != 0) {
        ret = api_respond_error(c, req, 409, "not_ready", "asset %s is %s, not ready", req->id,
                                status ? status : "unknown");
        json_decref(record);
        return ret;
    }
    lds_error err;
    lds_error_clear(&err);
    lds_preview_keys *keys = preview_keys(api, &err);
    lds_redis *redis = keys ? api_redis(api, &err) : NULL;
    json_t *issued = NULL;
    lds_preview_viewer viewer = {req->who.name, req->who.key_id, req->who.role};
    if (redis == NULL || lds_preview_issue(redis, keys, &api->preview_settings, record, &viewer, &issued, &err) != LDS_OK) {
        json_decref(record);
        return api_respond_status(c, req, &err);
    }
    json_decref(record);
    const char *token = json_string_value(json_object_get(issued, "token"));
    char *model = format("/v1/assets/%s/preview/model?token=%s", req->id, token);
    char *viewer_url = format("/v1/assets/%s/preview/viewer?token=%s", req->id, token);
    if (model && viewer_url) {
        json_object_set_new(issued, "model_url", json_string(model));
        json_object_set_new(issued, "viewer_url", json_string(viewer_url));
    }
    free(model);
    free(viewer_url);
    return api_respond_json(c, req, 201, issued);
}

/* Checks ?token= for req->id; MHD_YES with *preview, or the error response queued into *ret. */
static enum MHD_Result check_token(lds_api *api, struct MHD_Connection *c, api_request *req, json_t **preview,
                                   enum MHD_Result *ret)
{
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    lds_error err;
    lds_error_clear(&err);
    lds_preview_keys *keys = preview_keys(api, &err);
    lds_redis *redis = keys ? api_redis(api, &err) : NULL;
    if (redis == NULL) {
        *ret = api_respond_status(c, req, &err);
        return MHD_NO;
    }
    if (token == NULL || !token_chars_ok(token)) {
        *ret = api_respond_error(c, req, 401, "invalid_token", "a preview token is required (?token=)");
        return MHD_NO;
    }
    lds_preview_verdict verdict;
    if (lds_preview_check(redis, keys, token, req->id, &verdict, preview, &err) == LDS_OK)
        return MHD_YES;
    switch (verdict) {
    case LDS_PREVIEW_EXPIRED: *ret = api_respond_error(c, req, 401, "token_expired", "%s", err.message); break;
    case LDS_PREVIEW_OTHER_ASSET: *ret = api_respond_error(c, req, 403, "wrong_asset", "%s", err.message); break;
    case LDS_PREVIEW_UNAVAILABLE: *ret = api_respond_status(c, req, &err); break;
    default: *ret = api_respond_error(c, req, 401, "invalid_token", "%s", err.message); break;
    }
    return MHD_NO;
}

static enum MHD_Result respond_glb(struct MHD_Connection *c, api_request *req, lds_buf *glb)
{
    size_t size = 0;
    unsigned char *data = lds_buf_detach(glb, &size);
    struct MHD_Response *r = MHD_create_response_from_buffer(size, data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "model/gltf-binary");
    MHD_add_response_header(r, "Cache-Control", "private, no-store");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    return api_queue_response(c, req, 200, r);
}

enum MHD_Result api_preview_model(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *preview = NULL;
    enum MHD_Result ret;
    if (check_token(api, c, req, &preview, &ret) != MHD_YES)
        return ret;
    lds_error err;
    lds_error_clear(&err);
    lds_buf glb;
    lds_buf_init(&glb, 1u << 30);
    lds_status st = lds_preview_render(api->blobs, api->preview_keys, preview, &glb, &err);
    json_decref(preview);
    if (st != LDS_OK) {
        lds_buf_cleanup(&glb);
        return api_respond_status(c, req, &err);
    }
    return respond_glb(c, req, &glb);
}

static const char viewer_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lodestone preview</title>\n"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
    "<link rel=\"icon\" href=\"data:,\">\n"
    "<style>html,body{margin:0;height:100%%;background:#1d2026;color:#d8dde6;font:14px system-ui,sans-serif}"
    "canvas{display:block;width:100%%;height:100%%}#status{position:absolute;left:10px;top:8px}</style>\n"
    "<script type=\"importmap\">{\"imports\":{\"three\":\"/web/three/build/three.module.js\","
    "\"three/addons/\":\"/web/three/examples/jsm/\"}}</script>\n"
    "</head><body><canvas id=\"view\"></canvas><div id=\"status\">loading the preview</div>\n"
    "<script type=\"module\">\n"
    "import * as THREE from 'three';\n"
    "import {GLTFLoader} from 'three/addons/loaders/GLTFLoader.js';\n"
    "import {DRACOLoader} from 'three/addons/loaders/DRACOLoader.js';\n"
    "import {MeshoptDecoder} from 'three/addons/libs/meshopt_decoder.module.js';\n"
    "import {OrbitControls} from 'three/addons/controls/OrbitControls.js';\n"
    "const modelUrl = '%s';\n"
    "const canvas = document.getElementById('view'), status = document.getElementById('status');\n"
    "const renderer = new THREE.WebGLRenderer({canvas, antialias: true, preserveDrawingBuffer: true});\n"
    "renderer.setPixelRatio(window.devicePixelRatio);\n"
    "const scene = new THREE.Scene();\n"
    "scene.background = new THREE.Color(0x1d2026);\n"
    "scene.add(new THREE.HemisphereLight(0xffffff, 0x40444c, 2.0));\n"
    "const sun = new THREE.DirectionalLight(0xffffff, 2.0);\n"
    "sun.position.set(3, 5, 4);\n"
    "scene.add(sun);\n"
    "const camera = new THREE.PerspectiveCamera(40, 1, 0.001, 1000);\n"
    "const controls = new OrbitControls(camera, canvas);\n"
    "function resize() {\n"
    "  const w = canvas.clientWidth, h = canvas.clientHeight;\n"
    "  renderer.setSize(w, h, false); camera.aspect = w / h; camera.updateProjectionMatrix();\n"
    "}\n"
    "window.addEventListener('resize', resize); resize();\n"
    "const draco = new DRACOLoader().setDecoderPath('/web/three/examples/jsm/libs/draco/gltf/');\n"
    "const loader = new GLTFLoader().setDRACOLoader(draco).setMeshoptDecoder(MeshoptDecoder);\n"
    "loader.load(modelUrl, (gltf) => {\n"
    "  const root = gltf.scene;\n"
    "  const box = new THREE.Box3().setFromObject(root), size = box.getSize(new THREE.Vector3());\n"
    "  const center = box.getCenter(new THREE.Vector3()), radius = size.length() / 2 || 1;\n"
    "  root.position.sub(center); scene.add(root);\n"
    "  camera.near = radius / 100; camera.far = radius * 100;\n"
    "  camera.position.set(radius * 1.2, radius * 0.8, radius * 2.2); camera.updateProjectionMatrix();\n"
    "  controls.target.set(0, 0, 0); controls.update();\n"
    "  let triangles = 0;\n"
    "  root.traverse((o) => { if (o.isMesh) { const g = o.geometry;\n"
    "    triangles += (g.index ? g.index.count : g.attributes.position.count) / 3; } });\n"
    "  status.textContent = 'preview: ' + triangles + ' triangles';\n"
    "  window.lodestonePreview = {loaded: true, triangles};\n"
    "}, undefined, (e) => {\n"
    "  status.textContent = 'cannot load the preview: ' + e;\n"
    "  window.lodestonePreview = {loaded: false, error: String(e)};\n"
    "});\n"
    "renderer.setAnimationLoop(() => { controls.update(); renderer.render(scene, camera); });\n"
    "</script></body></html>\n";

enum MHD_Result api_preview_viewer(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *preview = NULL;
    enum MHD_Result ret;
    if (check_token(api, c, req, &preview, &ret) != MHD_YES)
        return ret;
    json_decref(preview);
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    /* the id (an existing asset's) and the token (checked characters) hold no quote or markup */
    char *url = format("/v1/assets/%s/preview/model?token=%s", req->id, token);
    char *page = url ? format(viewer_page, url) : NULL;
    free(url);
    if (page == NULL)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(page);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "private, no-store");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; "
                            "connect-src 'self'; worker-src 'self' blob:; img-src 'self' blob: data:; "
                            "style-src 'unsafe-inline'; frame-ancestors 'self'");
    return api_queue_response(c, req, 200, r);
}

/* ---- static files: three.js from the npm package ---- */

static const char *content_type(const char *path)
{
    char ext[16];
    lds_path_extension(path, ext, sizeof(ext));
    return strcmp(ext, "js") == 0 ? "text/javascript; charset=utf-8"
           : strcmp(ext, "wasm") == 0 ? "application/wasm"
           : strcmp(ext, "json") == 0 ? "application/json"
                                      : NULL;
}

enum MHD_Result api_web_get(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    const char *path = req->path;
    int allowed = strncmp(path, "three/build/", 12) == 0 || strncmp(path, "three/examples/jsm/", 19) == 0;
    for (const char *p = path; allowed && *p; p++)
        allowed = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                  *p == '-' || *p == '/' || (*p == '.' && p[1] != '.' && p[-1] != '/');
    const char *type = content_type(path);
    if (!allowed || type == NULL || strstr(path, "//"))
        return api_respond_error(c, req, 404, "not_found", "no such file under /web/");
    char full[PATH_MAX];
    struct stat st;
    if (snprintf(full, sizeof(full), "%s/%s", api->web_root, path) >= (int)sizeof(full) || stat(full, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return api_respond_error(c, req, 404, "not_found", "no such file under /web/ (web root %s)", api->web_root);
    char tag[80];
    snprintf(tag, sizeof(tag), "w-%llx-%llx", (unsigned long long)st.st_size, (unsigned long long)st.st_mtime);
    return api_respond_file(c, req, full, tag, type);
}

/* ---- POST /v1/ops/trace ---- */

enum MHD_Result api_ops_trace(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    const char *asset = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "asset");
    const char *filename = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename");
    if (asset == NULL || *asset == 0 || strlen(asset) >= LDS_ID_MAX)
        return api_respond_error(c, req, 400, "bad_request", "?asset=ID is required");
    if (req->body_bytes == 0 || req->body_fd < 0)
        return api_respond_error(c, req, 400, "bad_request", "the suspect file is the request body");
    lds_error err;
    lds_error_clear(&err);
    lds_limits limits;
    lds_limits_init(&limits);
    lds_sandbox_limits sl;
    lds_sandbox_limits_from(&sl, &limits);
    unsigned char *data = NULL;
    size_t size = 0;
    lds_mesh_model *suspect = NULL;
    json_t *out = NULL;
    lds_preview_keys *keys = preview_keys(api, &err);
    lds_redis *redis = keys ? api_redis(api, &err) : NULL;
    lds_status st = redis ? lds_file_read(req->body_path, MAX_SUSPECT_BYTES, &data, &size, &err) : err.code;
    if (st == LDS_OK)
        st = lds_sandbox_run(filename, data, size, NULL, &sl, lds_mesh_import, &suspect, &err);
    free(data);
    if (st == LDS_OK)
        st = lds_preview_trace(redis, api->blobs, keys, asset, suspect, TRACE_ALPHA, &out, &err);
    lds_mesh_model_destroy(suspect);
    if (st != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 200, out);
}
