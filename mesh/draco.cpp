/*
 * draco.cpp: the Draco shim (see draco_shim.h), the one C++ file of lodestone.
 *
 * Builds a draco::Mesh (or draco::PointCloud for points) with one attribute per glTF attribute,
 * welds equal attribute values and point ids as draco_encoder does when it loads a file (so the
 * edgebreaker sees the real connectivity across UV seams and the sizes match draco_encoder's),
 * and encodes with draco::Encoder. The number of points and faces actually encoded (edgebreaker
 * drops unreferenced points and may split non-manifold ones) is tracked by the encoder: that is
 * the count the glTF accessors must state (KHR_draco_mesh_compression, "accessors").
 *
 * No Draco type or exception crosses this file: every entry point catches and returns a status.
 */
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "draco/compression/decode.h"
#include "draco/compression/encode.h"
#include "draco/core/encoder_buffer.h"
#include "draco/mesh/mesh.h"
#include "draco/point_cloud/point_cloud.h"

#include "draco_shim.h"

namespace {

/* Adds an attribute with one value per point (identity mapping) copied from data. */
int add_attribute(draco::PointCloud *pc, draco::GeometryAttribute::Type type, draco::DataType data_type,
                  int components, bool normalized, const void *data, size_t value_size, size_t count)
{
    draco::GeometryAttribute ga;
    ga.Init(type, nullptr, (uint8_t)components, data_type, normalized, (int64_t)value_size, 0);
    int id = pc->AddAttribute(ga, true, (draco::AttributeValueIndex::ValueType)count);
    if (id < 0)
        return -1;
    draco::PointAttribute *pa = pc->attribute(id);
    if (count > 0)
        pa->buffer()->Write(0, data, value_size * count);
    return id;
}

lds_status encode(const lds_draco_input *in, lds_draco_output *out, lds_error *err)
{
    const size_t n = in->vertex_count;
    const bool is_mesh = in->index_count > 0;
    std::unique_ptr<draco::PointCloud> geometry;
    draco::Mesh *mesh = nullptr;
    if (is_mesh) {
        mesh = new draco::Mesh();
        geometry.reset(mesh);
    } else {
        geometry.reset(new draco::PointCloud());
    }
    geometry->set_num_points((draco::PointIndex::ValueType)n);

    int pos = add_attribute(geometry.get(), draco::GeometryAttribute::POSITION, draco::DT_FLOAT32, 3, false,
                            in->positions, 3 * sizeof(float), n);
    int nrm = -1, uv = -1, col = -1;
    if (in->normals)
        nrm = add_attribute(geometry.get(), draco::GeometryAttribute::NORMAL, draco::DT_FLOAT32, 3, false, in->normals,
                            3 * sizeof(float), n);
    if (in->uvs)
        uv = add_attribute(geometry.get(), draco::GeometryAttribute::TEX_COORD, draco::DT_FLOAT32, 2, false, in->uvs,
                           2 * sizeof(float), n);
    if (in->colors) {
        std::unique_ptr<uint8_t[]> rgba(new uint8_t[4 * n + 1]);
        for (size_t i = 0; i < 4 * n; i++) {
            float c = in->colors[i];
            c = c < 0.f ? 0.f : c > 1.f ? 1.f : c;
            rgba[i] = (uint8_t)(c * 255.f + 0.5f);
        }
        col = add_attribute(geometry.get(), draco::GeometryAttribute::COLOR, draco::DT_UINT8, 4, true, rgba.get(), 4,
                            n);
    }
    int uv1 = -1, tan = -1;
    if (in->uvs1)
        uv1 = add_attribute(geometry.get(), draco::GeometryAttribute::TEX_COORD, draco::DT_FLOAT32, 2, false, in->uvs1,
                            2 * sizeof(float), n);
    if (in->tangents)
        tan = add_attribute(geometry.get(), draco::GeometryAttribute::GENERIC, draco::DT_FLOAT32, 4, false,
                            in->tangents, 4 * sizeof(float), n);
    int jnt = -1, wgt = -1;
    if (in->joints && in->weights) {
        jnt = add_attribute(geometry.get(), draco::GeometryAttribute::GENERIC, draco::DT_UINT16, 4, false, in->joints,
                            4 * sizeof(uint16_t), n);
        wgt = add_attribute(geometry.get(), draco::GeometryAttribute::GENERIC, draco::DT_FLOAT32, 4, false,
                            in->weights, 4 * sizeof(float), n);
    }
    if (pos < 0 || (in->normals && nrm < 0) || (in->uvs && uv < 0) || (in->colors && col < 0) ||
        (in->uvs1 && uv1 < 0) || (in->tangents && tan < 0) || (in->joints && in->weights && (jnt < 0 || wgt < 0)))
        return lds_error_set(err, LDS_EINTERNAL, "draco: cannot add attributes");

    if (is_mesh) {
        const size_t faces = in->index_count / 3;
        mesh->SetNumFaces(faces);
        for (size_t f = 0; f < faces; f++) {
            const uint32_t *t = in->indices + 3 * f;
            if (t[0] >= n || t[1] >= n || t[2] >= n)
                return lds_error_set(err, LDS_EINVAL, "draco: face %zu uses vertex %u of %zu", f,
                                     t[0] >= n ? t[0] : t[1] >= n ? t[1] : t[2], n);
            draco::Mesh::Face face = {{draco::PointIndex(t[0]), draco::PointIndex(t[1]), draco::PointIndex(t[2])}};
            mesh->SetFace(draco::FaceIndex((uint32_t)f), face);
        }
        /* Weld as draco_encoder does on load: shared positions across seams become one value. */
        if (!geometry->DeduplicateAttributeValues())
            return lds_error_set(err, LDS_EINTERNAL, "draco: attribute deduplication failed");
        geometry->DeduplicatePointIds();
    }

    draco::Encoder encoder;
    encoder.SetAttributeQuantization(draco::GeometryAttribute::POSITION, in->position_bits);
    if (in->normals)
        encoder.SetAttributeQuantization(draco::GeometryAttribute::NORMAL, in->normal_bits);
    if (in->uvs)
        encoder.SetAttributeQuantization(draco::GeometryAttribute::TEX_COORD, in->uv_bits);
    encoder.SetSpeedOptions(in->encode_speed, in->decode_speed);
    encoder.SetTrackEncodedProperties(true);

    draco::EncoderBuffer buffer;
    draco::Status status = is_mesh ? encoder.EncodeMeshToBuffer(*mesh, &buffer)
                                   : encoder.EncodePointCloudToBuffer(*geometry, &buffer);
    if (!status.ok())
        return lds_error_set(err, LDS_EINTERNAL, "draco: %s", status.error_msg());

    out->size = buffer.size();
    out->data = (unsigned char *)malloc(out->size ? out->size : 1);
    if (out->data == nullptr)
        return lds_error_set(err, LDS_ENOMEM, "draco: out of memory for %zu bytes", out->size);
    memcpy(out->data, buffer.data(), out->size);
    /* point cloud encoders keep every point and do not track them */
    out->point_count = is_mesh ? encoder.num_encoded_points() : geometry->num_points();
    out->face_count = is_mesh ? encoder.num_encoded_faces() : 0;
    out->position_id = (int)geometry->attribute(pos)->unique_id();
    out->normal_id = nrm >= 0 ? (int)geometry->attribute(nrm)->unique_id() : -1;
    out->uv_id = uv >= 0 ? (int)geometry->attribute(uv)->unique_id() : -1;
    out->color_id = col >= 0 ? (int)geometry->attribute(col)->unique_id() : -1;
    out->uv1_id = uv1 >= 0 ? (int)geometry->attribute(uv1)->unique_id() : -1;
    out->tangent_id = tan >= 0 ? (int)geometry->attribute(tan)->unique_id() : -1;
    out->joints_id = jnt >= 0 ? (int)geometry->attribute(jnt)->unique_id() : -1;
    out->weights_id = wgt >= 0 ? (int)geometry->attribute(wgt)->unique_id() : -1;
    return LDS_OK;
}

lds_status decode(const unsigned char *data, size_t size, size_t *point_count, size_t *face_count, float **positions,
                  lds_error *err)
{
    draco::DecoderBuffer buffer;
    buffer.Init((const char *)data, size);
    auto type = draco::Decoder::GetEncodedGeometryType(&buffer);
    if (!type.ok())
        return lds_error_set(err, LDS_EFORMAT, "draco: %s", type.status().error_msg());
    draco::Decoder decoder;
    std::unique_ptr<draco::PointCloud> geometry;
    size_t faces = 0;
    if (type.value() == draco::TRIANGULAR_MESH) {
        auto mesh = decoder.DecodeMeshFromBuffer(&buffer);
        if (!mesh.ok())
            return lds_error_set(err, LDS_EFORMAT, "draco: %s", mesh.status().error_msg());
        faces = mesh.value()->num_faces();
        geometry = std::move(mesh).value();
    } else if (type.value() == draco::POINT_CLOUD) {
        auto pc = decoder.DecodePointCloudFromBuffer(&buffer);
        if (!pc.ok())
            return lds_error_set(err, LDS_EFORMAT, "draco: %s", pc.status().error_msg());
        geometry = std::move(pc).value();
    } else {
        return lds_error_set(err, LDS_EFORMAT, "draco: unknown geometry type");
    }
    *point_count = geometry->num_points();
    *face_count = faces;
    if (positions) {
        *positions = nullptr;
        const draco::PointAttribute *pa = geometry->GetNamedAttribute(draco::GeometryAttribute::POSITION);
        if (pa == nullptr)
            return lds_error_set(err, LDS_EFORMAT, "draco: no position attribute");
        float *p = (float *)malloc(3 * sizeof(float) * (*point_count ? *point_count : 1));
        if (p == nullptr)
            return lds_error_set(err, LDS_ENOMEM, "draco: out of memory");
        for (draco::PointIndex i(0); i < geometry->num_points(); ++i)
            if (!pa->ConvertValue<float, 3>(pa->mapped_index(i), p + 3 * i.value())) {
                free(p);
                return lds_error_set(err, LDS_EFORMAT, "draco: position %u unreadable", i.value());
            }
        *positions = p;
    }
    return LDS_OK;
}

} // namespace

extern "C" lds_status lds_draco_encode(const lds_draco_input *in, lds_draco_output *out, lds_error *err)
{
    memset(out, 0, sizeof(*out));
    out->position_id = out->normal_id = out->uv_id = out->color_id = out->uv1_id = out->tangent_id = -1;
    out->joints_id = out->weights_id = -1;
    lds_status status;
    try {
        status = encode(in, out, err);
    } catch (const std::bad_alloc &) {
        status = lds_error_set(err, LDS_ENOMEM, "draco: out of memory");
    } catch (...) {
        status = lds_error_set(err, LDS_EINTERNAL, "draco: encoder failed");
    }
    if (status != LDS_OK) {
        free(out->data);
        out->data = nullptr;
        out->size = 0;
    }
    return status;
}

extern "C" lds_status lds_draco_decode_counts(const unsigned char *data, size_t size, size_t *point_count,
                                              size_t *face_count, float **positions, lds_error *err)
{
    *point_count = *face_count = 0;
    if (positions)
        *positions = nullptr;
    try {
        return decode(data, size, point_count, face_count, positions, err);
    } catch (const std::bad_alloc &) {
        return lds_error_set(err, LDS_ENOMEM, "draco: out of memory");
    } catch (...) {
        return lds_error_set(err, LDS_EFORMAT, "draco: decoder failed");
    }
}

struct lds_draco_mesh {
    std::unique_ptr<draco::PointCloud> geometry;
    draco::Mesh *mesh; /* geometry as a mesh, or nullptr for a point cloud */
};

extern "C" lds_status lds_draco_decode(const unsigned char *data, size_t size, lds_draco_mesh **out,
                                       size_t *point_count, size_t *face_count, lds_error *err)
{
    *out = nullptr;
    *point_count = *face_count = 0;
    try {
        std::unique_ptr<lds_draco_mesh> m(new lds_draco_mesh());
        m->mesh = nullptr;
        draco::DecoderBuffer buffer;
        buffer.Init((const char *)data, size);
        auto type = draco::Decoder::GetEncodedGeometryType(&buffer);
        if (!type.ok())
            return lds_error_set(err, LDS_EFORMAT, "draco: %s", type.status().error_msg());
        draco::Decoder decoder;
        if (type.value() == draco::TRIANGULAR_MESH) {
            auto mesh = decoder.DecodeMeshFromBuffer(&buffer);
            if (!mesh.ok())
                return lds_error_set(err, LDS_EFORMAT, "draco: %s", mesh.status().error_msg());
            m->mesh = mesh.value().get();
            m->geometry = std::move(mesh).value();
            *face_count = m->mesh->num_faces();
        } else if (type.value() == draco::POINT_CLOUD) {
            auto pc = decoder.DecodePointCloudFromBuffer(&buffer);
            if (!pc.ok())
                return lds_error_set(err, LDS_EFORMAT, "draco: %s", pc.status().error_msg());
            m->geometry = std::move(pc).value();
        } else {
            return lds_error_set(err, LDS_EFORMAT, "draco: unknown geometry type");
        }
        *point_count = m->geometry->num_points();
        *out = m.release();
        return LDS_OK;
    } catch (const std::bad_alloc &) {
        return lds_error_set(err, LDS_ENOMEM, "draco: out of memory");
    } catch (...) {
        return lds_error_set(err, LDS_EFORMAT, "draco: decoder failed");
    }
}

extern "C" lds_status lds_draco_decode_indices(const lds_draco_mesh *m, uint32_t *out, lds_error *err)
{
    if (m->mesh == nullptr)
        return LDS_OK;
    const uint32_t points = m->geometry->num_points();
    for (draco::FaceIndex f(0); f < m->mesh->num_faces(); ++f) {
        const draco::Mesh::Face &face = m->mesh->face(f);
        for (int k = 0; k < 3; k++) {
            uint32_t v = face[k].value();
            if (v >= points)
                return lds_error_set(err, LDS_EFORMAT, "draco: face %u uses point %u of %u", f.value(), v, points);
            out[3 * (size_t)f.value() + k] = v;
        }
    }
    return LDS_OK;
}

extern "C" lds_status lds_draco_decode_attribute(const lds_draco_mesh *m, int id, int width, const float *fill,
                                                 float *out, lds_error *err)
{
    if (id < 0 || width < 1 || width > 4)
        return lds_error_set(err, LDS_ENOENT, "draco: no attribute %d", id);
    const draco::PointAttribute *pa = m->geometry->GetAttributeByUniqueId((uint32_t)id);
    if (pa == nullptr)
        return lds_error_set(err, LDS_ENOENT, "draco: no attribute %d", id);
    const int components = pa->num_components();
    for (draco::PointIndex i(0); i < m->geometry->num_points(); ++i) {
        float value[4] = {0, 0, 0, 0};
        if (!pa->ConvertValue<float>(pa->mapped_index(i), (int8_t)(components < 4 ? components : 4), value))
            return lds_error_set(err, LDS_EFORMAT, "draco: attribute %d value %u unreadable", id, i.value());
        float *o = out + (size_t)width * i.value();
        for (int c = 0; c < width; c++)
            o[c] = c < components ? value[c] : fill[c];
    }
    return LDS_OK;
}

extern "C" void lds_draco_mesh_destroy(lds_draco_mesh *m)
{
    delete m;
}
