#!/bin/sh
# The image's last build step (bentofile.yaml `docker.setup_script`), as root,
# after the Python packages are installed. BentoML's Dockerfile installs a
# compiler, git and gnupg for packages built from source, and uv to install;
# every package the bento pins is a wheel and the service runs none of them,
# so the served image keeps none (with buildah the image is squashed, so they
# leave no layer behind either).
set -eu
apt-get purge --yes --quiet --auto-remove build-essential git gnupg2 >/dev/null
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /root/.cache
pip uninstall --yes --quiet uv
