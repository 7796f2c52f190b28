# Reference for bench/preprocess.ts: nnU-Net V1's resample_data_or_seg for an anisotropic case,
# built from scipy exactly as nnU-Net runs it (skimage.resize == scipy.ndimage.zoom(grid_mode=True,
# mode='nearest') + clip): images order 3 slice by slice + nearest along z; labels one-hot order 1
# slice by slice (batchgenerators resize_segmentation) + nearest along z.
# usage: python3 preprocess_reference.py IN_IMAGE.i16 IN_LABEL.u8 NI NJ NK NI2 NJ2 NK2 OUT_PREFIX
# Arrays are i-fastest on disk (Fortran order). Prints one JSON line with the timings.
import sys, json, time, resource
import numpy as np
from scipy.ndimage import zoom, map_coordinates

img_file, lab_file = sys.argv[1], sys.argv[2]
ni, nj, nk, oi, oj, ok = map(int, sys.argv[3:9])
out_prefix = sys.argv[9]
img = np.fromfile(img_file, dtype=np.int16).reshape((ni, nj, nk), order='F')
lab = np.fromfile(lab_file, dtype=np.uint8).reshape((ni, nj, nk), order='F')

def sk_resize(a, new_shape, order):
    a = a.astype(float)
    f = np.asarray(a.shape, dtype=float) / np.asarray(new_shape, dtype=float)
    out = zoom(a, 1 / f, order=order, mode='nearest', grid_mode=True)
    return np.clip(out, a.min(), a.max())

def resize_segmentation(seg, new_shape):
    out = np.zeros(new_shape, dtype=seg.dtype)
    for c in np.unique(seg):
        m = sk_resize((seg == c).astype(float), new_shape, 1)
        out[m >= 0.5] = c
    return out

def resample_z(r, new_shape):
    rows, cols, dim = new_shape
    orows, ocols, odim = r.shape
    mr, mc, md = np.mgrid[:rows, :cols, :dim]
    mr = float(orows) / rows * (mr + 0.5) - 0.5
    mc = float(ocols) / cols * (mc + 0.5) - 0.5
    md = float(odim) / dim * (md + 0.5) - 0.5
    return map_coordinates(r, np.array([mr, mc, md]), order=0, mode='nearest')

t0 = time.perf_counter()
data = img.astype(float)
sl = np.stack([sk_resize(data[:, :, k], (oi, oj), 3) for k in range(nk)], 2)
out_img = resample_z(sl, (oi, oj, ok)).astype(np.float32)
t1 = time.perf_counter()
sl = np.stack([resize_segmentation(lab[:, :, k], (oi, oj)) for k in range(nk)], 2)
out_lab = resample_z(sl, (oi, oj, ok))
t2 = time.perf_counter()
out_img.flatten('F').tofile(out_prefix + '_image.f32')
out_lab.astype(np.uint8).flatten('F').tofile(out_prefix + '_label.u8')
print(json.dumps({'image_ms': (t1 - t0) * 1000, 'labels_ms': (t2 - t1) * 1000, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
