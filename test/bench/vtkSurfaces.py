"""
The peer of the mesh benchmark: 3D Slicer's labelmap-to-surface pipeline in native VTK (Debian's
python3-vtk9), run on the same label map as holocase. Per label: the label's box (±1 voxel), discrete
flying edges, windowed-sinc smoothing as Slicer sets it (20 iterations, pass band 10^(-4 * 0.5),
non-manifold smoothing, normalised coordinates, no boundary or feature-edge smoothing), quadric
decimation (volume preservation on) down to the triangle count holocase gave that structure, normals.

Used only by test/bench/mesh.ts, which skips it (with a note) where VTK is not installed; nothing in
the product or its tests needs Python.

usage: vtkSurfaces.py REQUEST.json OUT.bin
  REQUEST: {"labels": "labels.raw", "dtype": "uint8"|"uint16", "dims": [nx, ny, nz],
            "spacing": [sx, sy, sz],
            "structures": [{"label": 1, "triangles": 1234, "box": [[i0, j0, k0], [i1, j1, k1]]}, ...]}
  OUT: per structure, int32 label, int32 vertex count, int32 triangle count, float32 xyz (mm, grid
       frame: index * spacing), int32 indices. Timings go to stdout as JSON.
"""
import json
import struct
import sys
import time

import vtk
from vtk.util import numpy_support  # noqa: F401  (ensures numpy-backed arrays are available)
import numpy as np


def main():
    request = json.load(open(sys.argv[1]))
    nx, ny, nz = request["dims"]
    dtype = np.uint8 if request["dtype"] == "uint8" else np.uint16
    data = np.fromfile(request["labels"], dtype=dtype).reshape((nz, ny, nx))
    image = vtk.vtkImageData()
    image.SetDimensions(nx, ny, nz)
    image.SetSpacing(*request["spacing"])
    image.SetOrigin(0, 0, 0)
    array = numpy_support.numpy_to_vtk(data.ravel(), deep=False, array_type=vtk.VTK_UNSIGNED_CHAR if dtype == np.uint8 else vtk.VTK_UNSIGNED_SHORT)
    image.GetPointData().SetScalars(array)

    timings = {"extract": 0.0, "smooth": 0.0, "decimate": 0.0, "normals": 0.0}
    out = open(sys.argv[2], "wb")
    started = time.perf_counter()
    for s in request["structures"]:
        label = s["label"]
        (x0, y0, z0), (x1, y1, z1) = s["box"]
        t = time.perf_counter()
        voi = vtk.vtkExtractVOI()
        voi.SetInputData(image)
        voi.SetVOI(max(0, x0 - 1), min(nx - 1, x1 + 1), max(0, y0 - 1), min(ny - 1, y1 + 1), max(0, z0 - 1), min(nz - 1, z1 + 1))
        edges = vtk.vtkDiscreteFlyingEdges3D()
        edges.SetInputConnection(voi.GetOutputPort())
        edges.ComputeGradientsOff()
        edges.ComputeNormalsOff()
        edges.ComputeScalarsOff()
        edges.SetValue(0, label)
        edges.Update()
        t1 = time.perf_counter()
        smoother = vtk.vtkWindowedSincPolyDataFilter()
        smoother.SetInputData(edges.GetOutput())
        smoother.SetNumberOfIterations(20)
        smoother.SetPassBand(10 ** (-4.0 * 0.5))
        smoother.BoundarySmoothingOff()
        smoother.FeatureEdgeSmoothingOff()
        smoother.NonManifoldSmoothingOn()
        smoother.NormalizeCoordinatesOn()
        smoother.Update()
        t2 = time.perf_counter()
        surface = smoother.GetOutput()
        raw = surface.GetNumberOfPolys()
        if raw > s["triangles"] > 0:
            decimator = vtk.vtkQuadricDecimation()
            decimator.SetInputData(surface)
            decimator.SetTargetReduction(1.0 - s["triangles"] / raw)
            decimator.VolumePreservationOn()
            decimator.Update()
            surface = decimator.GetOutput()
        t3 = time.perf_counter()
        normals = vtk.vtkPolyDataNormals()
        normals.SetInputData(surface)
        normals.SplittingOff()
        normals.ConsistencyOn()
        normals.Update()
        surface = normals.GetOutput()
        t4 = time.perf_counter()
        timings["extract"] += t1 - t
        timings["smooth"] += t2 - t1
        timings["decimate"] += t3 - t2
        timings["normals"] += t4 - t3

        points = numpy_support.vtk_to_numpy(surface.GetPoints().GetData()).astype(np.float32) if surface.GetNumberOfPoints() else np.zeros((0, 3), np.float32)
        cells = numpy_support.vtk_to_numpy(surface.GetPolys().GetData()).reshape(-1, 4)[:, 1:].astype(np.int32) if surface.GetNumberOfPolys() else np.zeros((0, 3), np.int32)
        out.write(struct.pack("<iii", label, len(points), len(cells)))
        out.write(points.tobytes())
        out.write(cells.tobytes())
    timings["total"] = time.perf_counter() - started
    out.close()
    print(json.dumps({"vtk": vtk.vtkVersion.GetVTKVersion(), "seconds": timings}))


if __name__ == "__main__":
    main()
