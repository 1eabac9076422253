package simcluster

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// A pod's volumes on this machine. The processes the pod agent runs for a pod (engine-sim, the loader) are no
// containers: they see this machine's file system. So the agent does what the kubelet's volume manager does — a
// claim's volume is its PersistentVolume's folder, a Secret or ConfigMap is written as files, an emptyDir is a new
// folder, all under <cluster dir>/pods/<namespace>_<pod>/volumes/<volume>/ for the pod's own — and then rewrites
// every container path under a mount in the process's arguments and environment to the folder behind it.

// mountPoint is one volume mount of a container: its path in the container and the folder behind it here.
type mountPoint struct {
	ctr, host string
}

// pathMap maps container paths to folders on this machine, longest mount path first so a mount inside another
// mount wins (/cache/hub before /cache).
type pathMap []mountPoint

// newPathMap sorts the mounts, longest container path first.
func newPathMap(mounts []mountPoint) pathMap {
	m := make(pathMap, 0, len(mounts))
	for _, mp := range mounts {
		if c := path.Clean(mp.ctr); c != "/" && c != "." {
			m = append(m, mountPoint{ctr: c, host: mp.host})
		}
	}
	slices.SortStableFunc(m, func(a, b mountPoint) int { return len(b.ctr) - len(a.ctr) })
	return m
}

// mapPath rewrites a path that is a mount path or lies under one; false when it is under none.
func (m pathMap) mapPath(p string) (string, bool) {
	for _, mp := range m {
		if p == mp.ctr {
			return mp.host, true
		}
		if rest, ok := strings.CutPrefix(p, mp.ctr+"/"); ok {
			return filepath.Join(mp.host, filepath.FromSlash(rest)), true
		}
	}
	return p, false
}

// mapArg rewrites one argument or environment value: a path under a mount, or the value of --flag=<path> (also
// -flag=<path>). Anything else is left as it is: the programs' other arguments mean nothing on the file system.
func (m pathMap) mapArg(a string) string {
	if p, ok := m.mapPath(a); ok {
		return p
	}
	if strings.HasPrefix(a, "-") {
		if flag, value, ok := strings.Cut(a, "="); ok {
			if p, ok := m.mapPath(value); ok {
				return flag + "=" + p
			}
		}
	}
	return a
}

// mapArgs rewrites a command line.
func (m pathMap) mapArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = m.mapArg(a)
	}
	return out
}

// literalEnv is a container's literal environment as KEY=VALUE, each value rewritten. Values from Secrets,
// ConfigMaps or the downward API are left out: the processes need none (the loader reads its token from a file).
func (m pathMap) literalEnv(env []corev1.EnvVar) []string {
	var out []string
	for _, e := range env {
		if e.ValueFrom == nil {
			out = append(out, e.Name+"="+m.mapArg(e.Value))
		}
	}
	return out
}

// podDir is where the agent keeps what belongs to one pod (volumes, the termination message).
func podDir(clusterDir, namespace, name string) string {
	return filepath.Join(clusterDir, "pods", namespace+"_"+name)
}

// volumeSources are what the agent's volume manager reads.
type volumeSources struct {
	secrets    corelisters.SecretLister
	configMaps corelisters.ConfigMapLister
	claims     corelisters.PersistentVolumeClaimLister
	volumes    corelisters.PersistentVolumeLister
}

// containerMounts returns the path map of one container of pod and what must be written before its process starts
// (Secret and ConfigMap files, emptyDir and subPath folders). Volumes of kinds the simulated cluster does not
// provide (projected service account tokens, the downward API, CSI, a claim bound to a volume that is neither
// hostPath nor local) are not mapped. An error (a claim not bound
// yet, a Secret gone) means: try again later.
func (v volumeSources) containerMounts(clusterDir string, pod *corev1.Pod, ctr *corev1.Container) (pathMap, []func() error, error) {
	byName := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		byName[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	own := filepath.Join(podDir(clusterDir, pod.Namespace, pod.Name), "volumes")
	var mounts []mountPoint
	var fills []func() error
	prepared := map[string]bool{}
	for _, vm := range ctr.VolumeMounts {
		vol := byName[vm.Name]
		if vol == nil {
			continue // the API server refuses such a pod
		}
		base, fill, err := v.volumeFolder(own, pod, vol)
		if err != nil {
			return nil, nil, err
		}
		if base == "" {
			continue
		}
		if fill != nil && !prepared[vol.Name] {
			prepared[vol.Name] = true
			fills = append(fills, fill)
		}
		host := base
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expandEnv(vm.SubPathExpr, ctr.Env)
		}
		if sub != "" {
			if filepath.IsAbs(sub) || slices.Contains(strings.Split(filepath.ToSlash(sub), "/"), "..") {
				return nil, nil, fmt.Errorf("volume mount %s: subPath %q must be a relative path within the volume", vm.Name, sub)
			}
			host = filepath.Join(base, filepath.FromSlash(sub))
			// The kubelet creates a missing subPath folder, for read-only mounts too.
			fills = append(fills, func() error { return os.MkdirAll(host, 0o755) })
		}
		mounts = append(mounts, mountPoint{ctr: vm.MountPath, host: host})
	}
	return newPathMap(mounts), fills, nil
}

// volumeFolder is the folder behind one volume and how to prepare it ("" for a volume it does not provide).
func (v volumeSources) volumeFolder(own string, pod *corev1.Pod, vol *corev1.Volume) (string, func() error, error) {
	dir := filepath.Join(own, vol.Name)
	switch src := vol.VolumeSource; {
	case src.PersistentVolumeClaim != nil:
		claim, err := v.claims.PersistentVolumeClaims(pod.Namespace).Get(src.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return "", nil, fmt.Errorf("volume %s: claim %s: %w", vol.Name, src.PersistentVolumeClaim.ClaimName, err)
		}
		if claim.Spec.VolumeName == "" {
			return "", nil, fmt.Errorf("volume %s: claim %s is not bound", vol.Name, claim.Name)
		}
		pv, err := v.volumes.Get(claim.Spec.VolumeName)
		if err != nil {
			return "", nil, fmt.Errorf("volume %s: %w", vol.Name, err)
		}
		host, err := hostPathOf(pv)
		if err != nil {
			return "", nil, nil // a volume a test made of another kind (NFS, CSI): no folder here to map to
		}
		return host, nil, nil
	case src.HostPath != nil:
		return src.HostPath.Path, nil, nil
	case src.EmptyDir != nil:
		// Any user may write it, as the kubelet makes emptyDirs (0777).
		return dir, func() error {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return err
			}
			return os.Chmod(dir, 0o777)
		}, nil
	case src.Secret != nil:
		s := src.Secret
		return dir, func() error {
			secret, err := v.secrets.Secrets(pod.Namespace).Get(s.SecretName)
			var data map[string][]byte
			switch {
			case err == nil:
				data = secret.Data
			case apierrors.IsNotFound(err) && s.Optional != nil && *s.Optional:
			default:
				return fmt.Errorf("volume %s: %w", vol.Name, err)
			}
			return writeKeys(dir, data, s.Items, s.DefaultMode, s.Optional != nil && *s.Optional)
		}, nil
	case src.ConfigMap != nil:
		c := src.ConfigMap
		return dir, func() error {
			cm, err := v.configMaps.ConfigMaps(pod.Namespace).Get(c.Name)
			data := map[string][]byte{}
			switch {
			case err == nil:
				for k, val := range cm.Data {
					data[k] = []byte(val)
				}
				for k, val := range cm.BinaryData {
					data[k] = val
				}
			case apierrors.IsNotFound(err) && c.Optional != nil && *c.Optional:
			default:
				return fmt.Errorf("volume %s: %w", vol.Name, err)
			}
			return writeKeys(dir, data, c.Items, c.DefaultMode, c.Optional != nil && *c.Optional)
		}, nil
	}
	return "", nil, nil
}

// writeKeys writes a Secret's or ConfigMap's keys as files, as the kubelet does: every key, or only items (each at
// its path), with the item's mode, else the volume's defaultMode (the API server defaults it to 0644; the
// operator's token volume says 0400), replacing what an earlier start wrote.
func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, optional bool) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode) & os.ModePerm
	}
	if len(items) == 0 {
		for k := range data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		content, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("references non-existent key: %s", it.Key)
		}
		p := filepath.Join(dir, filepath.FromSlash(it.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & os.ModePerm
		}
		if err := os.WriteFile(p, content, m); err != nil {
			return err
		}
		if err := os.Chmod(p, m); err != nil { // not subject to the umask
			return err
		}
	}
	return nil
}

// expandEnv expands $(VAR) in a subPathExpr with the container's literal environment, as the kubelet does;
// $$(VAR) escapes, an unknown variable expands to nothing.
func expandEnv(s string, env []corev1.EnvVar) string {
	vars := map[string]string{}
	for _, e := range env {
		if e.ValueFrom == nil {
			vars[e.Name] = e.Value
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "$$("):
			b.WriteString("$(")
			i += 2
		case strings.HasPrefix(s[i:], "$("):
			if end := strings.IndexByte(s[i:], ')'); end > 0 {
				b.WriteString(vars[s[i+2:i+end]])
				i += end
				continue
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// volumeMountError is the kubelet's message when it cannot mount one of a pod's Secret or ConfigMap volumes (the
// Secret, ConfigMap or an item's key does not exist and the volume is not optional), or "" when it can. The
// kubelet mounts every volume of the pod before it creates any container, so this comes before the environment's
// checks (containerConfigError).
func volumeMountError(pod *corev1.Pod, secrets corelisters.SecretLister, configMaps corelisters.ConfigMapLister) (string, error) {
	failed := func(vol, msg string) string {
		return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %s", vol, msg)
	}
	for _, vol := range pod.Spec.Volumes {
		switch {
		case vol.Secret != nil:
			s := vol.Secret
			optional := s.Optional != nil && *s.Optional
			secret, err := secrets.Secrets(pod.Namespace).Get(s.SecretName)
			switch {
			case apierrors.IsNotFound(err) && optional:
				continue
			case apierrors.IsNotFound(err):
				return failed(vol.Name, fmt.Sprintf("secret %q not found", s.SecretName)), nil
			case err != nil:
				return "", err
			}
			for _, it := range s.Items {
				if _, ok := secret.Data[it.Key]; !ok && !optional {
					return failed(vol.Name, "references non-existent secret key: "+it.Key), nil
				}
			}
		case vol.ConfigMap != nil:
			c := vol.ConfigMap
			optional := c.Optional != nil && *c.Optional
			cm, err := configMaps.ConfigMaps(pod.Namespace).Get(c.Name)
			switch {
			case apierrors.IsNotFound(err) && optional:
				continue
			case apierrors.IsNotFound(err):
				return failed(vol.Name, fmt.Sprintf("configmap %q not found", c.Name)), nil
			case err != nil:
				return "", err
			}
			for _, it := range c.Items {
				_, a := cm.Data[it.Key]
				_, b := cm.BinaryData[it.Key]
				if !a && !b && !optional {
					return failed(vol.Name, "configmap references non-existent config key: "+it.Key), nil
				}
			}
		}
	}
	return "", nil
}
