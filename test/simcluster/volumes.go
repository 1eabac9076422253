package simcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The simulated cluster's storage: a default StorageClass whose claims the volume provisioner binds to folders on
// this machine, so a pod's volume is a folder the processes the pod agent runs (the loader, engine-sim) read and
// write, as an NFS export would be for an RWX claim.
const (
	// StorageClassName is the cluster's default StorageClass.
	StorageClassName = "simcluster-hostpath"
	// Provisioner is the StorageClass's provisioner: the simulated cluster's volume provisioner.
	Provisioner = "simcluster.privatellm.dev/hostpath"
	// annProvisionedBy is the annotation external provisioners set on the volumes they create (the PV controller
	// then leaves their deletion to them).
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

// volumeProvisioner plays an external provisioner for StorageClassName: for each claim of the class without a
// volume it creates a hostPath PersistentVolume on a new folder under dir, pre-bound to the claim, which the PV
// binder of kube-controller-manager then binds; when a volume it made is Released (its claim deleted) it deletes
// the volume and the folder (reclaimPolicy Delete).
type volumeProvisioner struct {
	cs         kubernetes.Interface
	dir        string
	claims     corelisters.PersistentVolumeClaimLister
	volumes    corelisters.PersistentVolumeLister
	queue      workqueue.TypedRateLimitingInterface[string] // "claim/<ns>/<name>" or "volume/<name>"
	stopInf    chan struct{}
	workerDone chan struct{}
}

// startVolumes creates the StorageClass and starts the provisioner; it returns once its caches are in sync.
func (c *Cluster) startVolumes(ctx context.Context) error {
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: StorageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: Provisioner,
		// Immediate: a folder is reachable from every node, so there is no node to wait for.
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
	}
	if err := c.client.Create(ctx, sc); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass %s: %w", StorageClassName, err)
	}
	dir := filepath.Join(c.dir, "volumes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create volume folder: %w", err)
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return fmt.Errorf("volume provisioner client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(cs, 30*time.Second)
	claimInf, volumeInf := factory.Core().V1().PersistentVolumeClaims(), factory.Core().V1().PersistentVolumes()
	p := &volumeProvisioner{
		cs: cs, dir: dir, claims: claimInf.Lister(), volumes: volumeInf.Lister(),
		queue:      workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		stopInf:    make(chan struct{}),
		workerDone: make(chan struct{}),
	}
	for prefix, inf := range map[string]cache.SharedIndexInformer{"claim/": claimInf.Informer(), "volume/": volumeInf.Informer()} {
		enqueue := func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				p.queue.Add(prefix + key)
			}
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) },
		}); err != nil {
			return fmt.Errorf("volume provisioner: %w", err)
		}
	}
	factory.Start(p.stopInf)
	go p.work()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), claimInf.Informer().HasSynced, volumeInf.Informer().HasSynced) {
		p.stop()
		return fmt.Errorf("volume provisioner: caches not synced: %w", syncCtx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		p.stop()
		return errors.New("simulated cluster is stopping")
	}
	c.provisioner = p
	return nil
}

func (p *volumeProvisioner) work() {
	defer close(p.workerDone)
	for {
		key, shutdown := p.queue.Get()
		if shutdown {
			return
		}
		if err := p.sync(key); err != nil {
			fmt.Fprintf(os.Stderr, "simcluster: volume provisioner: %s: %v\n", key, err)
			p.queue.AddRateLimited(key)
		} else {
			p.queue.Forget(key)
		}
		p.queue.Done(key)
	}
}

func (p *volumeProvisioner) sync(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch kind, key, _ := strings.Cut(key, "/"); kind {
	case "claim":
		ns, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			return nil
		}
		claim, err := p.claims.PersistentVolumeClaims(ns).Get(name)
		if apierrors.IsNotFound(err) {
			return nil // its volume turns Released: handled there
		}
		if err != nil {
			return err
		}
		return p.provision(ctx, claim)
	case "volume":
		pv, err := p.volumes.Get(key)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return p.reclaim(ctx, pv)
	}
	return nil
}

// provision creates the volume of a claim of the class that has none. A claim created without a class has the
// class already: the DefaultStorageClass admission plugin (on by default in kube-apiserver) set the default one.
// The volume is named after the claim's UID, so a retry finds the one it made.
func (p *volumeProvisioner) provision(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	if claim.DeletionTimestamp != nil || claim.Spec.VolumeName != "" || ptr.Deref(claim.Spec.StorageClassName, "") != StorageClassName {
		return nil
	}
	if claim.Spec.VolumeMode != nil && *claim.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return nil // a folder is no block device: the claim stays Pending, as with a provisioner that cannot
	}
	name := "pvc-" + string(claim.UID)
	if _, err := p.volumes.Get(name); err == nil {
		return nil
	}
	folder := filepath.Join(p.dir, name)
	if err := os.MkdirAll(folder, 0o777); err != nil {
		return fmt.Errorf("create the folder of %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	// Any pod's user may write it, as on an NFS export: the processes run as this user, the pods may say another.
	if err := os.Chmod(folder, 0o777); err != nil {
		return err
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: Provisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes: append([]corev1.PersistentVolumeAccessMode{}, claim.Spec.AccessModes...),
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace,
				Name: claim.Name, UID: claim.UID},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              StorageClassName,
			VolumeMode:                    claim.Spec.VolumeMode,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: folder, Type: ptr.To(corev1.HostPathDirectory)}},
		},
	}
	if _, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the volume of %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	return nil
}

// reclaim deletes a volume of ours whose claim is gone (the PV controller marks it Released and, the volume being
// an external provisioner's, leaves the deletion to us), and its folder.
func (p *volumeProvisioner) reclaim(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Annotations[annProvisionedBy] != Provisioner || pv.Status.Phase != corev1.VolumeReleased ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.DeletionTimestamp != nil {
		return nil
	}
	if hp := pv.Spec.HostPath; hp != nil && filepath.Dir(hp.Path) == p.dir {
		if err := os.RemoveAll(hp.Path); err != nil {
			return fmt.Errorf("remove the folder of %s: %w", pv.Name, err)
		}
	}
	err := p.cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", pv.Name, err)
	}
	return nil
}

// stop ends the provisioner. It is idempotent.
func (p *volumeProvisioner) stop() {
	select {
	case <-p.stopInf:
		return
	default:
	}
	close(p.stopInf)
	p.queue.ShutDown()
	<-p.workerDone
}

// VolumePath returns the folder on this machine behind a bound claim: the hostPath (or local path) of its volume.
func (c *Cluster) VolumePath(namespace, claim string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var pvc corev1.PersistentVolumeClaim
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: claim}, &pvc); err != nil {
		return "", err
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
		return "", fmt.Errorf("claim %s/%s is %s, not bound to a volume", namespace, claim, pvc.Status.Phase)
	}
	var pv corev1.PersistentVolume
	if err := c.client.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, &pv); err != nil {
		return "", err
	}
	return hostPathOf(&pv)
}

// hostPathOf is the folder on this machine behind a volume.
func hostPathOf(pv *corev1.PersistentVolume) (string, error) {
	switch {
	case pv.Spec.HostPath != nil:
		return pv.Spec.HostPath.Path, nil
	case pv.Spec.Local != nil:
		return pv.Spec.Local.Path, nil
	}
	return "", fmt.Errorf("volume %s is neither hostPath nor local: no folder on this machine", pv.Name)
}
