// glTF-Transform with every extension it knows and both decoders (draco3dgltf, meshoptimizer)
// registered: the one way these scripts read and write glTF.
import { tool } from './lib.mjs';

let cached = null;

export async function gltfIO() {
  if (cached) return cached;
  const core = await tool('@gltf-transform/core');
  const ext = await tool('@gltf-transform/extensions');
  const draco = await tool('draco3dgltf');
  const mo = await tool('meshoptimizer');
  const createDecoderModule = draco.createDecoderModule || draco.default.createDecoderModule;
  const createEncoderModule = draco.createEncoderModule || draco.default.createEncoderModule;
  await mo.MeshoptDecoder.ready;
  await mo.MeshoptEncoder.ready;
  const io = new core.NodeIO()
    .registerExtensions(ext.ALL_EXTENSIONS)
    .registerDependencies({
      'draco3d.decoder': await createDecoderModule(),
      'draco3d.encoder': await createEncoderModule(),
      'meshopt.decoder': mo.MeshoptDecoder,
      'meshopt.encoder': mo.MeshoptEncoder,
    });
  cached = { io, core, ext };
  return cached;
}
