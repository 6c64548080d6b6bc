import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

here = os.path.abspath(os.path.dirname(__file__))
about = {}
with open(os.path.join(here, "fastthing", "__version__.py")) as fh:
    exec(fh.read(), about)


def git_revision():
    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=here).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_temp = os.path.join(self.build_temp, ext.name)
        os.makedirs(build_temp, exist_ok=True)
        cfg = "Debug" if self.debug else "Release"
        cmake_args = [
            "-DCMAKE_BUILD_TYPE=" + cfg,
            "-DPYTHON_EXECUTABLE=" + sys.executable,
        ]
        if os.environ.get("CMAKE_ARGS"):
            cmake_args += os.environ["CMAKE_ARGS"].split()
        subprocess.check_call(["cmake", here] + cmake_args, cwd=build_temp)
        subprocess.check_call(["cmake", "--build", ".", "--config", cfg], cwd=build_temp)
        subprocess.check_call([sys.executable, "-m", "fastthing._gen"], cwd=build_temp)


setup(
    name="fastthing",
    version=about["__version__"],
    ext_modules=[Extension("fastthing._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build-" + git_revision()[:8]}},
)
