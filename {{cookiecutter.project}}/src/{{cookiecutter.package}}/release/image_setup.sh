#!/bin/sh
# The image's last build step (bentofile.yaml `docker.setup_script`), as root,
# after the Python packages are installed. BentoML's Dockerfile installs a
# compiler, git and gnupg for packages built from source, and uv to install;
# every package the bento pins is a wheel and the service runs none of them,
# so the served image keeps none (with buildah the image is squashed, so they
# leave no layer behind either).
# The compiler's packages are named, not left to --auto-remove alone: apt keeps
# a package another one recommends (pip recommends build-essential on Debian's
# own Python), and the image test found gcc left behind that way.
set -eu
apt-get purge --yes --quiet --auto-remove \
    -o APT::AutoRemove::RecommendsImportant=false \
    -o APT::AutoRemove::SuggestsImportant=false \
    build-essential gcc g++ cpp make dpkg-dev git gnupg2 >/dev/null
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /root/.cache
pip uninstall --yes --quiet uv
