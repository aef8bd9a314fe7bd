# dist/: KRANK on many machines.  The systemd unit krank@.service (one
# instance per /etc/krank/NAME.yaml), the demo deployment it runs as
# krank@demo, the example isolates and deployments a package ships, the
# Kubernetes manifests (dist/k8s) and the Debian packaging (debian/, in
# the tarball so tests/dist/test_deb.sh builds the package from it).

# The unit and the demo name installed paths: made at make time, when
# bindir and pkglibdir are final (make install prefix=... included).
dist_edit = sed -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|@krankexamplesdir[@]|$(krankexamplesdir)|g'

# Serves `krankctl metrics` over HTTP, one request per connection (the
# Kubernetes sidecar: socat TCP-LISTEN:9464,fork EXEC:...).
pkglibexec_SCRIPTS = dist/metrics-http
dist/metrics-http: $(srcdir)/dist/metrics-http.in Makefile
	@mkdir -p dist
	$(AM_V_GEN)$(dist_edit) $(srcdir)/dist/metrics-http.in >$@.tmp && \
		chmod +x $@.tmp && mv $@.tmp $@

if HAVE_SYSTEMDUNITDIR
systemdsystemunit_DATA = dist/systemd/krank@.service
endif
dist/systemd/krank@.service: $(srcdir)/dist/systemd/krank@.service.in Makefile
	@mkdir -p dist/systemd
	$(AM_V_GEN)$(dist_edit) $(srcdir)/dist/systemd/krank@.service.in >$@.tmp && \
		mv $@.tmp $@

krankconfdir = $(sysconfdir)/krank
krankconf_DATA = dist/demo.yaml
dist/demo.yaml: $(srcdir)/dist/demo.yaml.in Makefile
	@mkdir -p dist
	$(AM_V_GEN)$(dist_edit) $(srcdir)/dist/demo.yaml.in >$@.tmp && mv $@.tmp $@

# The examples keep the tree's layout, so the deployments' relative paths
# (../echo/echo.kx) hold where they are installed too.  Not under
# pkglibdir, which is multiarch in packages: the Kubernetes ConfigMap and
# the demo name one path, $(prefix)/lib/krank/examples.
krankexamplesdir = $(prefix)/lib/krank/examples
krankexdeploydir = $(krankexamplesdir)/deployments
dist_krankexdeploy_DATA = examples/deployments/echo.yaml \
	examples/deployments/httpd.yaml examples/deployments/tmpfs.yaml \
	examples/deployments/README.md
krankexechodir = $(krankexamplesdir)/echo
krankexecho_DATA = examples/echo/echo.kx
krankexhttpddir = $(krankexamplesdir)/httpd
krankexhttpd_DATA = examples/httpd/httpd.kx

CLEANFILES += dist/systemd/krank@.service dist/demo.yaml dist/metrics-http

# Kubernetes: manifests and the guide (docs/kubernetes.md).
EXTRA_DIST += dist/systemd/krank@.service.in dist/demo.yaml.in \
	dist/metrics-http.in \
	dist/k8s/krank-daemonset.yaml dist/k8s/configmap-demo.yaml \
	docs/kubernetes.md docs/metrics.md docs/systemd.md \
	debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/krank.install debian/libkrank-dev.install \
	debian/not-installed

# tests/dist: the unit, the manifests, the package, the metrics format.
TESTS += tests/dist/test_systemd_unit.sh tests/dist/test_k8s_manifests.sh \
	tests/dist/test_metrics_format.sh tests/dist/test_deb.sh
EXTRA_DIST += tests/dist/test_systemd_unit.sh tests/dist/test_k8s_manifests.sh \
	tests/dist/test_metrics_format.sh tests/dist/test_deb.sh \
	tests/dist/k8s_check.py tests/dist/prom_check.py
