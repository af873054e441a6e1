/* thumbnail_mesa.c: the same turntable (8 views, 512x512, same camera and lights) through Mesa
 * (EGL surfaceless, llvmpipe: no display) with 4x MSAA, to compare with mesh/thumbnail.c. Prints
 * per model the wall time and the process CPU time (llvmpipe renders on several threads) of the
 * 8 views with and without the PNG encoding. Usage: lds_thumbnail_mesa [--out DIR] MODEL... */
#define GL_GLEXT_PROTOTYPES 1
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh.h"

#define SIZE 512

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *vertex_source =
    "#version 330 core\n"
    "layout(location=0) in vec3 p; layout(location=1) in vec3 n; layout(location=2) in vec2 uv;\n"
    "uniform mat4 mvp; out vec3 wp; out vec3 wn; out vec2 tc;\n"
    "void main() { wp = p; wn = n; tc = uv; gl_Position = mvp * vec4(p, 1.0); }\n";
static const char *fragment_source =
    "#version 330 core\n"
    "in vec3 wp; in vec3 wn; in vec2 tc; out vec4 color;\n"
    "uniform vec3 eye; uniform vec3 light[2]; uniform vec4 base; uniform int textured; uniform int has_normals;\n"
    "uniform sampler2D tex;\n"
    "void main() {\n"
    "  vec3 n = has_normals != 0 ? normalize(wn) : normalize(cross(dFdx(wp), dFdy(wp)));\n"
    "  vec3 v = normalize(eye - wp); if (dot(n, v) < 0.0) n = -n;\n"
    "  vec4 b = base; if (textured != 0) b *= texture(tex, tc);\n"
    "  float lit = 0.12, spec = 0.0; float k[2] = float[](0.7, 0.22);\n"
    "  for (int i = 0; i < 2; i++) { float d = dot(n, light[i]); if (d <= 0.0) continue; lit += k[i] * d;\n"
    "    vec3 h = normalize(light[i] + v); spec += k[i] * 0.25 * pow(max(dot(n, h), 0.0), 40.0) * d; }\n"
    "  color = vec4(min(b.rgb * lit + spec, vec3(1.0)), 1.0);\n"
    "}\n";

static GLuint shader(GLenum kind, const char *source)
{
    GLuint s = glCreateShader(kind);
    glShaderSource(s, 1, &source, NULL);
    glCompileShader(s);
    GLint ok;
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[2048];
        glGetShaderInfoLog(s, sizeof(log), NULL, log);
        fprintf(stderr, "shader: %s\n", log);
        exit(1);
    }
    return s;
}

static int gl_init(void)
{
    PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    EGLDisplay dpy = get_display ? get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL) : NULL;
    EGLint major, minor, count;
    EGLConfig config;
    static const EGLint config_attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                            EGL_NONE};
    static const EGLint context_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                                             EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                             EGL_NONE};
    if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor) ||
        !eglChooseConfig(dpy, config_attribs, &config, 1, &count) || count < 1 || !eglBindAPI(EGL_OPENGL_API))
        return -1;
    EGLContext ctx = eglCreateContext(dpy, config, EGL_NO_CONTEXT, context_attribs);
    if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
        return -1;
    fprintf(stderr, "Mesa: %s, %s\n", glGetString(GL_RENDERER), glGetString(GL_VERSION));
    return 0;
}

/* Column-major view-projection, the camera of mesh/thumbnail.c (30 degrees, sphere x 1.12). */
static void camera(const lds_mesh_model *m, float yaw_deg, float pitch_deg, float mvp[16], float eye[3],
                   float lights[6])
{
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY}, c[3], r2 = 0;
    for (size_t i = 0; i < m->vertex_count; i++)
        for (int k = 0; k < 3; k++) {
            lo[k] = fminf(lo[k], m->positions[3 * i + k]);
            hi[k] = fmaxf(hi[k], m->positions[3 * i + k]);
        }
    for (int k = 0; k < 3; k++)
        c[k] = 0.5f * (lo[k] + hi[k]);
    for (size_t i = 0; i < m->vertex_count; i++) {
        float d0 = m->positions[3 * i] - c[0], d1 = m->positions[3 * i + 1] - c[1], d2 = m->positions[3 * i + 2] - c[2];
        r2 = fmaxf(r2, d0 * d0 + d1 * d1 + d2 * d2);
    }
    float radius = sqrtf(r2), half = 15.0f * (float)M_PI / 180.0f, dist = radius / sinf(half) * 1.12f;
    float yaw = yaw_deg * (float)M_PI / 180.0f, pitch = pitch_deg * (float)M_PI / 180.0f;
    float dir[3] = {cosf(pitch) * sinf(yaw), sinf(pitch), cosf(pitch) * cosf(yaw)};
    float f[3], right[3], up[3];
    for (int k = 0; k < 3; k++) {
        eye[k] = c[k] + dist * dir[k];
        f[k] = -dir[k];
    }
    right[0] = -f[2], right[1] = 0, right[2] = f[0]; /* f x (0,1,0) */
    float rn = sqrtf(right[0] * right[0] + right[2] * right[2]);
    for (int k = 0; k < 3; k++)
        right[k] /= rn;
    up[0] = right[1] * f[2] - right[2] * f[1];
    up[1] = right[2] * f[0] - right[0] * f[2];
    up[2] = right[0] * f[1] - right[1] * f[0];
    float near = dist - radius * 1.01f, far = dist + radius * 1.01f, t = 1.0f / tanf(half);
    float view[16] = {right[0], up[0], -f[0], 0, right[1], up[1], -f[1], 0, right[2], up[2], -f[2], 0, 0, 0, 0, 1};
    for (int k = 0; k < 3; k++) {
        view[12] -= right[k] * eye[k];
        view[13] -= up[k] * eye[k];
        view[14] += f[k] * eye[k];
    }
    float proj[16] = {t, 0, 0, 0, 0, t, 0, 0, 0, 0, (far + near) / (near - far), -1, 0, 0, 2 * far * near / (near - far), 0};
    for (int col = 0; col < 4; col++)
        for (int row = 0; row < 4; row++) {
            float s = 0;
            for (int k = 0; k < 4; k++)
                s += proj[k * 4 + row] * view[col * 4 + k];
            mvp[col * 4 + row] = s;
        }
    static const float cam_lights[2][3] = {{-0.45f, 0.65f, 0.6f}, {0.7f, 0.1f, 0.45f}};
    for (int l = 0; l < 2; l++) {
        float d[3], n = 0;
        for (int k = 0; k < 3; k++) {
            d[k] = cam_lights[l][0] * right[k] + cam_lights[l][1] * up[k] - cam_lights[l][2] * f[k];
            n += d[k] * d[k];
        }
        for (int k = 0; k < 3; k++)
            lights[3 * l + k] = d[k] / sqrtf(n);
    }
}

int main(int argc, char **argv)
{
    int first = 1;
    const char *out_dir = NULL;
    if (argc > 2 && strcmp(argv[1], "--out") == 0) {
        out_dir = argv[2];
        first = 3;
    }
    if (first >= argc || gl_init() != 0) {
        fprintf(stderr, "usage: lds_thumbnail_mesa [--out DIR] MODEL... (and a working EGL surfaceless Mesa)\n");
        return 2;
    }
    GLuint program = glCreateProgram();
    glAttachShader(program, shader(GL_VERTEX_SHADER, vertex_source));
    glAttachShader(program, shader(GL_FRAGMENT_SHADER, fragment_source));
    glLinkProgram(program);
    GLuint fbo[2], rb[3];
    glGenFramebuffers(2, fbo);
    glGenRenderbuffers(3, rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb[0]);
    glRenderbufferStorageMultisample(GL_RENDERBUFFER, 4, GL_SRGB8_ALPHA8, SIZE, SIZE);
    glBindRenderbuffer(GL_RENDERBUFFER, rb[1]);
    glRenderbufferStorageMultisample(GL_RENDERBUFFER, 4, GL_DEPTH_COMPONENT24, SIZE, SIZE);
    glBindRenderbuffer(GL_RENDERBUFFER, rb[2]);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_SRGB8_ALPHA8, SIZE, SIZE);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo[0]);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[0]);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, rb[1]);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo[1]);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[2]);
    printf("%-28s %10s %14s %14s %14s\n", "model", "triangles", "render_wall_ms", "render_cpu_ms", "total_cpu_ms");
    for (int a = first; a < argc; a++) {
        lds_error err;
        lds_error_clear(&err);
        lds_mesh_model *m = NULL;
        if (lds_mesh_import_file(argv[a], 0, NULL, &m, &err) != LDS_OK) {
            fprintf(stderr, "%s\n", err.message);
            continue;
        }
        double wall0 = clock_ms(CLOCK_MONOTONIC), cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        GLuint vao, vbo[4], *tex = calloc(m->texture_count + 1, sizeof(GLuint));
        glGenVertexArrays(1, &vao);
        glBindVertexArray(vao);
        glGenBuffers(4, vbo);
        const float *attrs[3] = {m->positions, m->normals, m->uvs};
        int sizes[3] = {3, 3, 2};
        for (int k = 0; k < 3; k++)
            if (attrs[k]) {
                glBindBuffer(GL_ARRAY_BUFFER, vbo[k]);
                glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(m->vertex_count * (size_t)sizes[k] * sizeof(float)), attrs[k],
                             GL_STATIC_DRAW);
                glVertexAttribPointer((GLuint)k, sizes[k], GL_FLOAT, GL_FALSE, 0, NULL);
                glEnableVertexAttribArray((GLuint)k);
            }
        glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, vbo[3]);
        glBufferData(GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr)(m->index_count * sizeof(uint32_t)), m->indices,
                     GL_STATIC_DRAW);
        for (size_t t = 0; t < m->texture_count; t++) {
            lds_mesh_image img;
            if (!m->textures[t].data ||
                lds_mesh_image_decode("t", m->textures[t].data, m->textures[t].size, NULL, &img, &err) != LDS_OK)
                continue;
            glGenTextures(1, &tex[t]);
            glBindTexture(GL_TEXTURE_2D, tex[t]);
            glTexImage2D(GL_TEXTURE_2D, 0, GL_SRGB8_ALPHA8, img.width, img.height, 0, GL_RGBA, GL_UNSIGNED_BYTE, img.rgba);
            glGenerateMipmap(GL_TEXTURE_2D);
            glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR_MIPMAP_LINEAR);
            lds_mesh_image_cleanup(&img);
        }
        glUseProgram(program);
        glEnable(GL_DEPTH_TEST);
        glEnable(GL_FRAMEBUFFER_SRGB);
        glViewport(0, 0, SIZE, SIZE);
        unsigned char *pixels = malloc(SIZE * SIZE * 4);
        double png_cpu = 0;
        for (int v = 0; v < LDS_THUMBNAIL_VIEWS; v++) {
            float mvp[16], eye[3], lights[6];
            camera(m, lds_mesh_thumbnail_yaw(v), LDS_THUMBNAIL_PITCH, mvp, eye, lights);
            glBindFramebuffer(GL_FRAMEBUFFER, fbo[0]);
            glClearColor(0, 0, 0, 0);
            glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
            glUniformMatrix4fv(glGetUniformLocation(program, "mvp"), 1, GL_FALSE, mvp);
            glUniform3fv(glGetUniformLocation(program, "eye"), 1, eye);
            glUniform3fv(glGetUniformLocation(program, "light"), 2, lights);
            glUniform1i(glGetUniformLocation(program, "has_normals"), m->normals != NULL);
            for (size_t s = 0; s < m->submesh_count; s++) {
                const lds_mesh_submesh *sub = &m->submeshes[s];
                const lds_mesh_material *mat = &m->materials[sub->material];
                int t = mat->maps[LDS_MESH_MAP_BASE_COLOR].texture;
                int textured = t >= 0 && (size_t)t < m->texture_count && tex[t] && m->uvs;
                glUniform4fv(glGetUniformLocation(program, "base"), 1, mat->base_color);
                glUniform1i(glGetUniformLocation(program, "textured"), textured);
                if (textured)
                    glBindTexture(GL_TEXTURE_2D, tex[t]);
                glDrawElements(GL_TRIANGLES, (GLsizei)sub->index_count, GL_UNSIGNED_INT,
                               (const void *)(sub->index_offset * sizeof(uint32_t)));
            }
            glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo[0]);
            glBindFramebuffer(GL_DRAW_FRAMEBUFFER, fbo[1]);
            glBlitFramebuffer(0, 0, SIZE, SIZE, 0, 0, SIZE, SIZE, GL_COLOR_BUFFER_BIT, GL_NEAREST);
            glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo[1]);
            glReadPixels(0, 0, SIZE, SIZE, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
            double p0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
            lds_mesh_image img = {SIZE, SIZE, malloc(SIZE * SIZE * 4)};
            for (int y = 0; y < SIZE; y++) /* GL rows go bottom up */
                memcpy(&img.rgba[(size_t)y * SIZE * 4], &pixels[(size_t)(SIZE - 1 - y) * SIZE * 4], SIZE * 4);
            lds_buf png;
            lds_buf_init(&png, 16u << 20);
            lds_mesh_image_encode(&img, LDS_MESH_IMAGE_PNG, NULL, &png, &err);
            png_cpu += clock_ms(CLOCK_PROCESS_CPUTIME_ID) - p0;
            if (out_dir) {
                char path[4096];
                const char *base = strrchr(argv[a], '/');
                snprintf(path, sizeof(path), "%s/%s.mesa.%d.png", out_dir, base ? base + 1 : argv[a], v);
                lds_file_write_atomic(path, png.data, png.size, &err);
            }
            lds_buf_cleanup(&png);
            lds_mesh_image_cleanup(&img);
        }
        double wall = clock_ms(CLOCK_MONOTONIC) - wall0, cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        const char *base = strrchr(argv[a], '/');
        printf("%-28s %10zu %14.1f %14.1f %14.1f\n", base ? base + 1 : argv[a], lds_mesh_triangle_count(m), wall,
               cpu - png_cpu, cpu);
        free(pixels);
        for (size_t t = 0; t < m->texture_count; t++)
            if (tex[t])
                glDeleteTextures(1, &tex[t]);
        free(tex);
        glDeleteBuffers(4, vbo);
        glDeleteVertexArrays(1, &vao);
        lds_mesh_model_destroy(m);
    }
    return 0;
}
