/* hostile_set.c: see hostile_set.h. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostile_set.h"
#include "testlib.h"

typedef struct set {
    const char *dir;
    lds_hostile_file *files;
    size_t count, capacity;
} set;

static void add(set *s, const char *name, const void *data, size_t size, int must_fail)
{
    if (s->count == s->capacity) {
        s->capacity = s->capacity ? 2 * s->capacity : 64;
        s->files = realloc(s->files, s->capacity * sizeof(*s->files));
    }
    lds_hostile_file *f = &s->files[s->count];
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->path, sizeof(f->path), "%s/%s", s->dir, name);
    FILE *out = fopen(f->path, "wb");
    if (out == NULL || (size && fwrite(data, 1, size, out) != size)) {
        fprintf(stderr, "cannot write %s\n", f->path);
        if (out)
            fclose(out);
        return;
    }
    fclose(out);
    f->must_fail = must_fail;
    f->no_geometry = 0;
    s->count++;
}

static void add_copy(set *s, const char *source, const char *name, int must_fail)
{
    unsigned char *data = NULL;
    size_t size = 0;
    lds_error err;
    if (lds_file_read(source, 1 << 26, &data, &size, &err) != LDS_OK) {
        fprintf(stderr, "skipping %s: %s\n", source, err.message);
        return;
    }
    add(s, name, data, size, must_fail);
    free(data);
}

static void mutate(set *s, const char *source, const char *prefix, size_t mutations)
{
    unsigned char *data = NULL;
    size_t size = 0;
    lds_error err;
    if (lds_file_read(source, 1 << 24, &data, &size, &err) != LDS_OK || size == 0) {
        fprintf(stderr, "skipping %s\n", source);
        free(data);
        return;
    }
    char ext[16], name[256];
    lds_path_extension(source, ext, sizeof(ext));
    for (size_t i = 0; i < mutations; i++) { /* truncations, the empty one excluded */
        size_t n = size * (i + 1) / (mutations + 1);
        snprintf(name, sizeof(name), "%s-cut%zu.%s", prefix, n, ext);
        add(s, name, data, n, 0);
    }
    uint32_t seed = 12345;
    unsigned char *copy = malloc(size);
    for (size_t round = 0; round < mutations; round++) {
        memcpy(copy, data, size);
        for (size_t k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % size] ^= (unsigned char)(1u << ((seed >> 4) & 7));
        }
        snprintf(name, sizeof(name), "%s-flip%zu.%s", prefix, round, ext);
        add(s, name, copy, size, 0);
    }
    free(copy);
    free(data);
}

static void walk_invalid(set *s, const char *dir, int inside)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048], name[300];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        int invalid = inside || strcmp(e->d_name, "invalid") == 0;
        if (S_ISDIR(sb.st_mode)) {
            walk_invalid(s, path, invalid);
        } else if (inside && strcmp(e->d_name, "readme.txt") != 0) {
            /* malformed2.obj only names a missing material: a model with a warning is right */
            snprintf(name, sizeof(name), "invalid-%s", e->d_name);
            add_copy(s, path, name, strcmp(e->d_name, "malformed2.obj") != 0);
        }
    }
    closedir(d);
}

static int make_3mf_bomb(set *s)
{
    int rc = lds_test_run(NULL,
                          "cd '%s' && python3 -c \""
                          "import zipfile\n"
                          "z = zipfile.ZipFile('bomb.3mf', 'w', zipfile.ZIP_DEFLATED)\n"
                          "z.writestr('[Content_Types].xml', '<?xml version=\\\"1.0\\\"?><Types xmlns=\\\"http://schemas.openxmlformats.org/package/2006/content-types\\\"><Default Extension=\\\"model\\\" ContentType=\\\"application/vnd.ms-package.3dmanufacturing-3dmodel+xml\\\"/></Types>')\n"
                          "z.writestr('_rels/.rels', '<?xml version=\\\"1.0\\\"?><Relationships xmlns=\\\"http://schemas.openxmlformats.org/package/2006/relationships\\\"><Relationship Target=\\\"/3D/3dmodel.model\\\" Id=\\\"rel0\\\" Type=\\\"http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel\\\"/></Relationships>')\n"
                          "f = z.open('3D/3dmodel.model', 'w', force_zip64=True)\n"
                          "f.write(b'<?xml version=\\\"1.0\\\"?><model unit=\\\"millimeter\\\"><resources><object id=\\\"1\\\"><mesh><vertices>')\n"
                          "chunk = b'<vertex x=\\\"0\\\" y=\\\"0\\\" z=\\\"0\\\"/>' * 32768\n"
                          "[f.write(chunk) for i in range(1400)]\n"
                          "f.close()\n"
                          "z.close()\n\"",
                          s->dir);
    if (rc != 0)
        return -1;
    char path[1100];
    snprintf(path, sizeof(path), "%s/bomb.3mf", s->dir);
    add_copy(s, path, "bomb.3mf", 1); /* rewrites it in place, listed */
    return 0;
}

size_t lds_hostile_make(const char *dir, size_t mutations, int wide, lds_hostile_file **files)
{
    set s = {dir, NULL, 0, 0};
    static const char ply_huge[] = "ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\n"
                                   "property float x\nproperty float y\nproperty float z\nend_header\n"
                                   "\0\0\0\0\0\0\0\0\0\0\0\0";
    add(&s, "huge.ply", ply_huge, sizeof(ply_huge) - 1, 1);
    static const char ply_faces[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                    "property float z\nelement face 2000000000\nproperty list uchar int vertex_indices\n"
                                    "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";
    add(&s, "hugefaces.ply", ply_faces, sizeof(ply_faces) - 1, 1);
    static const char ply_nan[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                  "property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                                  "end_header\nnan 0 0\n1 inf 0\n0 1 0\n3 0 1 2\n";
    add(&s, "nan.ply", ply_nan, sizeof(ply_nan) - 1, 1);
    static const char obj_nan[] = "v nan 0 0\nv 1 0 0\nv 0 1 -inf\nf 1 2 3\n";
    add(&s, "nan.obj", obj_nan, sizeof(obj_nan) - 1, 1);
    static const char stl_inf[] = "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1e999 0 0\n"
                                  "vertex 0 1 0\nendloop\nendfacet\nendsolid t\n";
    add(&s, "inf.stl", stl_inf, sizeof(stl_inf) - 1, 1);
    static const char ply_index[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                    "property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                                    "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 99\n";
    add(&s, "index.ply", ply_index, sizeof(ply_index) - 1, 1);
    static const char obj_index[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4000000000\n";
    add(&s, "index.obj", obj_index, sizeof(obj_index) - 1, 1);
    add(&s, "point.obj", "v 0 0 0\n", 8, 1);
    static const char obj_flat[] = "v 0 0 0\nv 0 0 0\nv 0 0 0\nf 1 2 3\n";
    add(&s, "degenerate.obj", obj_flat, sizeof(obj_flat) - 1, 1);
    for (size_t i = 0; i < s.count; i++)
        s.files[i].no_geometry = !strcmp(s.files[i].name, "point.obj") || !strcmp(s.files[i].name, "degenerate.obj");
    static const char *const extensions[] = {"ply", "stl",   "obj", "glb",     "gltf", "fbx", "3ds", "dae", "3mf",
                                             "off", "blend", "x",   "md5mesh", "lwo",  "ifc", "ase", "ms3d"};
    size_t extension_count = wide ? sizeof(extensions) / sizeof(extensions[0]) : 10;
    uint32_t seed = 99;
    unsigned char random_bytes[4096];
    for (size_t i = 0; i < sizeof(random_bytes); i++) {
        seed = seed * 1664525u + 1013904223u;
        random_bytes[i] = (unsigned char)(seed >> 24);
    }
    for (size_t i = 0; i < extension_count; i++) {
        char name[64];
        snprintf(name, sizeof(name), "empty.%s", extensions[i]);
        add(&s, name, "", 0, 1);
        snprintf(name, sizeof(name), "random.%s", extensions[i]);
        add(&s, name, random_bytes, sizeof(random_bytes), 1);
    }
    if (make_3mf_bomb(&s) != 0)
        fprintf(stderr, "cannot build bomb.3mf (python3 missing?)\n");
    struct stat sb;
    if (stat(LDS_ASSIMP_MODELS, &sb) == 0) {
        walk_invalid(&s, LDS_ASSIMP_MODELS, 0);
        static const char *const sources[][2] = {{"PLY/cube_binary.ply", "ply"},
                                                 {"OBJ/box.obj", "obj"},
                                                 {"glTF2/BoxTextured-glTF-Binary/BoxTextured.glb", "glb"},
                                                 {"PLY/cube.ply", "plyascii"},
                                                 {"STL/Spider_ascii.stl", "stl"},
                                                 {"3DS/fels.3ds", "3ds"},
                                                 {"OFF/Cube.off", "off"},
                                                 {"Collada/duck.dae", "dae"}};
        for (size_t i = 0; i < (wide ? sizeof(sources) / sizeof(sources[0]) : 3); i++) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", LDS_ASSIMP_MODELS, sources[i][0]);
            mutate(&s, path, sources[i][1], mutations);
        }
    } else {
        fprintf(stderr, "assimp-testmodels not installed: only the generated files\n");
    }
    *files = s.files;
    return s.count;
}
