package deploy

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/riftbridge/riftbridge/config"
)

// kindInfo says how to decode and name-check one apiVersion and kind.
type kindInfo struct {
	newObject  func() metav1.Object
	namespaced bool
	checkName  func(string) []string
}

// of returns a constructor of a *T, as the metav1.Object it is.
func of[T any, P interface {
	*T
	metav1.Object
}]() func() metav1.Object {
	return func() metav1.Object { return P(new(T)) }
}

// kinds lists every apiVersion and kind the manifests may use, keyed
// "apiVersion kind". A document of any other kind fails the test: add it
// here (and its references to the checks) rather than leave it unchecked.
var kinds = map[string]kindInfo{
	"v1 ConfigMap":                             {of[corev1.ConfigMap](), true, validation.IsDNS1123Subdomain},
	"v1 PersistentVolumeClaim":                 {of[corev1.PersistentVolumeClaim](), true, validation.IsDNS1123Subdomain},
	"v1 Secret":                                {of[corev1.Secret](), true, validation.IsDNS1123Subdomain},
	"v1 Service":                               {of[corev1.Service](), true, validation.IsDNS1035Label},
	"v1 ServiceAccount":                        {of[corev1.ServiceAccount](), true, validation.IsDNS1123Subdomain},
	"apps/v1 DaemonSet":                        {of[appsv1.DaemonSet](), true, validation.IsDNS1123Subdomain},
	"apps/v1 Deployment":                       {of[appsv1.Deployment](), true, validation.IsDNS1123Subdomain},
	"apps/v1 StatefulSet":                      {of[appsv1.StatefulSet](), true, validation.IsDNS1123Subdomain},
	"batch/v1 Job":                             {of[batchv1.Job](), true, validation.IsDNS1123Subdomain},
	"policy/v1 PodDisruptionBudget":            {of[policyv1.PodDisruptionBudget](), true, validation.IsDNS1123Subdomain},
	"rbac.authorization.k8s.io/v1 ClusterRole": {of[rbacv1.ClusterRole](), false, content.IsPathSegmentName},
	"rbac.authorization.k8s.io/v1 ClusterRoleBinding": {of[rbacv1.ClusterRoleBinding](), false, content.IsPathSegmentName},
}

// userSecrets are the Secrets the manifests read but do not define: they
// hold keys and passwords, so the user creates them with kubectl (README.md
// and each manifest's header comment give the command). Each lists its keys.
var userSecrets = map[string][]string{
	"datadog/datadog-keys":    {"api-key"},            // the Agent's Datadog API key
	"riftbridge/datadog-keys": {"api-key", "app-key"}, // dashboards-push-job.yaml
	"riftbridge/redis":        {"password"},           // riftbridge-replicas.yaml
	"riftbridge/riot":         {"api-key"},            // the Riot API key
}

// manifest is one decoded document of a file in kubernetes/.
type manifest struct {
	file string
	doc  int // 1-based, counting the documents of file
	kind string
	info kindInfo
	obj  metav1.Object
}

func (m *manifest) String() string {
	return fmt.Sprintf("%s document %d (%s %s)", m.file, m.doc, m.kind, nsName(m.obj.GetNamespace(), m.obj.GetName()))
}

func nsName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// loadManifests decodes every document of every file in kubernetes/; errs
// has one error for each document that does not decode.
func loadManifests(t *testing.T) (all []*manifest, errs []error) {
	t.Helper()
	var files []string
	for _, pattern := range []string{"kubernetes/*.yaml", "kubernetes/*.yml"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) == 0 {
		t.Fatal("no manifests in kubernetes/")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// kubectl's own splitting: documents end at a "---" line.
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for doc := 1; ; doc++ {
			raw, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", file, doc, err)
			}
			m, err := decode(raw)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s document %d: %w", file, doc, err))
			case m != nil:
				m.file, m.doc = file, doc
				all = append(all, m)
			}
		}
	}
	return all, errs
}

// decode reads one document as the API server does: YAML with duplicate
// keys refused, then JSON into the typed object, with keys matched case
// sensitively and unknown or duplicate fields refused (sigs.k8s.io/yaml's
// UnmarshalStrict would match keys case-insensitively, so "Image:" would
// pass, and name no path). It returns nil for a document of comments only.
func decode(raw []byte) (*manifest, error) {
	js, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(js, []byte("null")) {
		return nil, nil
	}
	var tm metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		return nil, err
	}
	info, ok := kinds[tm.APIVersion+" "+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("apiVersion %q kind %q is not in this test's kinds: add it so that it is checked", tm.APIVersion, tm.Kind)
	}
	obj := info.newObject()
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		// A value whose own UnmarshalJSON fails (a bad quantity) comes with
		// no field; the JSON v2 decoder says where, if it stops on the same.
		var se *jsonv2.SemanticError
		if errors.As(jsonv2.Unmarshal(js, info.newObject()), &se) && se.Err != nil && se.Err.Error() == err.Error() {
			return nil, fmt.Errorf("%s: %w", se.JSONPointer, err)
		}
		return nil, err
	}
	if err := errors.Join(strict...); err != nil {
		return nil, err
	}
	return &manifest{kind: tm.Kind, info: info, obj: obj}, nil
}

// podTemplate returns the pod template of a workload, or nil.
func podTemplate(obj metav1.Object) *corev1.PodTemplateSpec {
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		return &o.Spec.Template
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	}
	return nil
}

// templatePath is where podTemplate's result sits in every workload kind.
var templatePath = field.NewPath("spec", "template")

// TestManifests decodes every manifest strictly into its Kubernetes type,
// then checks what the API server would refuse or what would keep the pods
// from starting: names, selectors, references between objects, ports.
func TestManifests(t *testing.T) {
	all, errs := loadManifests(t)
	for _, err := range errs {
		t.Error(err)
	}
	c := &checker{all: all, usedSecrets: map[string]bool{}}
	seen := map[string]*manifest{}
	for _, m := range c.all {
		id := m.file + " " + m.kind + " " + nsName(m.obj.GetNamespace(), m.obj.GetName())
		if first, ok := seen[id]; ok {
			t.Errorf("%s: defined again (first in document %d): apply would overwrite it", m, first.doc)
		}
		seen[id] = m
		for _, err := range c.check(m) {
			t.Errorf("%s: %v", m, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(userSecrets)) {
		if !c.usedSecrets[name] {
			t.Errorf("userSecrets[%q]: no manifest reads this Secret: remove it", name)
		}
	}
}

// checker checks manifests against each other.
type checker struct {
	all         []*manifest
	usedSecrets map[string]bool
}

// scope returns the manifests that keep accepts, from m's own file if any
// there do, else from the other files: a file is applied on its own or
// beside others (dashboards-push-job.yaml beside either riftbridge file).
func (c *checker) scope(m *manifest, keep func(*manifest) bool) []*manifest {
	var same, other []*manifest
	for _, o := range c.all {
		switch {
		case !keep(o):
		case o.file == m.file:
			same = append(same, o)
		default:
			other = append(other, o)
		}
	}
	if len(same) > 0 {
		return same
	}
	return other
}

// find returns the definitions of the named object that m would see.
func (c *checker) find(m *manifest, kind, namespace, name string) []*manifest {
	return c.scope(m, func(o *manifest) bool {
		return o.kind == kind && o.obj.GetNamespace() == namespace && o.obj.GetName() == name
	})
}

func (c *checker) check(m *manifest) field.ErrorList {
	errs := checkMeta(m)
	if tpl := podTemplate(m.obj); tpl != nil {
		errs = append(errs, c.checkPod(m, tpl)...)
	}
	switch o := m.obj.(type) {
	case *appsv1.DaemonSet:
		errs = append(errs, checkSelector(o.Spec.Selector, o.Spec.Template.Labels)...)
	case *appsv1.Deployment:
		errs = append(errs, checkSelector(o.Spec.Selector, o.Spec.Template.Labels)...)
	case *appsv1.StatefulSet:
		errs = append(errs, checkSelector(o.Spec.Selector, o.Spec.Template.Labels)...)
		errs = append(errs, c.checkRef(m, field.NewPath("spec", "serviceName"), "Service", o.Spec.ServiceName, nil)...)
	case *policyv1.PodDisruptionBudget:
		p := field.NewPath("spec", "selector")
		s, sErrs := selector(p, o.Spec.Selector)
		errs = append(errs, sErrs...)
		if s != nil && len(c.selectedPods(m, s)) == 0 {
			errs = append(errs, field.Invalid(p, s.String(), "selects no pod template in kubernetes/"))
		}
	case *corev1.Service:
		errs = append(errs, c.checkService(m, o)...)
	case *corev1.ConfigMap:
		for _, key := range slices.Sorted(maps.Keys(o.Data)) {
			for _, msg := range validation.IsConfigMapKey(key) {
				errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, msg))
			}
		}
	case *rbacv1.ClusterRoleBinding:
		errs = append(errs, c.checkRef(m, field.NewPath("roleRef", "name"), o.RoleRef.Kind, o.RoleRef.Name, nil)...)
		for i, s := range o.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && len(c.find(m, s.Kind, s.Namespace, s.Name)) == 0 {
				errs = append(errs, field.Invalid(field.NewPath("subjects").Index(i), nsName(s.Namespace, s.Name), "no such ServiceAccount in kubernetes/"))
			}
		}
	}
	return errs
}

func checkMeta(m *manifest) field.ErrorList {
	p := field.NewPath("metadata")
	var errs field.ErrorList
	if name := m.obj.GetName(); name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, invalid(p.Child("name"), name, m.info.checkName(name))...)
	}
	switch ns := m.obj.GetNamespace(); {
	case m.info.namespaced && ns == "":
		// The README applies the files without -n.
		errs = append(errs, field.Required(p.Child("namespace"), "or kubectl apply puts it in the current namespace"))
	case !m.info.namespaced && ns != "":
		errs = append(errs, field.Invalid(p.Child("namespace"), ns, "a "+m.kind+" has no namespace"))
	case ns != "":
		errs = append(errs, invalid(p.Child("namespace"), ns, validation.IsDNS1123Label(ns))...)
	}
	return append(errs, checkLabels(p.Child("labels"), m.obj.GetLabels())...)
}

func checkLabels(p *field.Path, l map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(l)) {
		errs = append(errs, invalid(p, k, content.IsLabelKey(k))...)
		errs = append(errs, invalid(p.Key(k), l[k], content.IsLabelValue(l[k]))...)
	}
	return errs
}

// invalid turns a validation function's messages into errors.
func invalid(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

// selector converts a label selector, refusing a missing or empty one (the
// API server requires one for apps/v1 workloads; an empty one selects
// every pod of the namespace).
func selector(p *field.Path, ls *metav1.LabelSelector) (labels.Selector, field.ErrorList) {
	if ls == nil {
		return nil, field.ErrorList{field.Required(p, "")}
	}
	s, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, field.ErrorList{field.Invalid(p, ls, err.Error())}
	}
	if s.Empty() {
		return nil, field.ErrorList{field.Invalid(p, ls, "empty: it would select every pod")}
	}
	return s, nil
}

func checkSelector(ls *metav1.LabelSelector, podLabels map[string]string) field.ErrorList {
	p := field.NewPath("spec", "selector")
	s, errs := selector(p, ls)
	if s != nil && !s.Matches(labels.Set(podLabels)) {
		errs = append(errs, field.Invalid(p, s.String(), "does not match spec.template.metadata.labels"))
	}
	return errs
}

// selectedPods returns the pod templates in m's namespace and scope that s
// selects.
func (c *checker) selectedPods(m *manifest, s labels.Selector) []*corev1.PodTemplateSpec {
	var pods []*corev1.PodTemplateSpec
	for _, o := range c.scope(m, func(o *manifest) bool {
		tpl := podTemplate(o.obj)
		return tpl != nil && o.obj.GetNamespace() == m.obj.GetNamespace() && s.Matches(labels.Set(tpl.Labels))
	}) {
		pods = append(pods, podTemplate(o.obj))
	}
	return pods
}

// checkService checks that the Service selects pods, and that each named
// targetPort is a port of those pods.
func (c *checker) checkService(m *manifest, svc *corev1.Service) field.ErrorList {
	if svc.Spec.Selector == nil {
		return nil // endpoints managed by hand
	}
	p := field.NewPath("spec")
	s := labels.SelectorFromSet(svc.Spec.Selector)
	pods := c.selectedPods(m, s)
	if len(pods) == 0 {
		return field.ErrorList{field.Invalid(p.Child("selector"), s.String(), "selects no pod template in kubernetes/")}
	}
	names := map[string]bool{}
	for _, pod := range pods {
		for _, ctr := range pod.Spec.Containers {
			for _, port := range ctr.Ports {
				names[port.Name] = true
			}
		}
	}
	var errs field.ErrorList
	for i, port := range svc.Spec.Ports {
		target := port.TargetPort
		if target == (intstr.IntOrString{}) {
			target = intstr.FromInt32(port.Port) // the default
		}
		errs = append(errs, checkPort(p.Child("ports").Index(i).Child("targetPort"), target, names)...)
	}
	return errs
}

// keyRef is a key that a reference expects in a ConfigMap or Secret.
type keyRef struct {
	path *field.Path
	key  string
}

// checkRef checks that the object kind/name exists in m's namespace, among
// the manifests or, for a Secret, in userSecrets, and holds keys.
func (c *checker) checkRef(m *manifest, p *field.Path, kind, name string, optional *bool, keys ...keyRef) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	ns := m.obj.GetNamespace()
	var have [][]string
	for _, def := range c.find(m, kind, ns, name) {
		switch o := def.obj.(type) {
		case *corev1.ConfigMap:
			have = append(have, slices.Concat(slices.Collect(maps.Keys(o.Data)), slices.Collect(maps.Keys(o.BinaryData))))
		case *corev1.Secret:
			have = append(have, slices.Concat(slices.Collect(maps.Keys(o.Data)), slices.Collect(maps.Keys(o.StringData))))
		default:
			have = append(have, nil)
		}
	}
	where := "kubernetes/"
	if kind == "Secret" {
		if userKeys, ok := userSecrets[nsName(ns, name)]; ok && len(have) == 0 {
			c.usedSecrets[nsName(ns, name)] = true
			have = append(have, userKeys)
		}
		where += " nor in userSecrets"
	}
	if len(have) == 0 {
		if optional != nil && *optional {
			return nil
		}
		return field.ErrorList{field.Invalid(p, name, fmt.Sprintf("no %s %s in %s", kind, nsName(ns, name), where))}
	}
	var errs field.ErrorList
	for _, k := range keys {
		for _, defKeys := range have {
			if !slices.Contains(defKeys, k.key) {
				errs = append(errs, field.Invalid(k.path, k.key, fmt.Sprintf("%s %s has no such key", kind, nsName(ns, name))))
				break
			}
		}
	}
	return errs
}

// checkPod checks a workload's pod template: volumes and what they name,
// containers, their mounts, environment references and probes.
func (c *checker) checkPod(m *manifest, tpl *corev1.PodTemplateSpec) field.ErrorList {
	errs := checkLabels(templatePath.Child("metadata", "labels"), tpl.Labels)
	spec := templatePath.Child("spec")

	volumes := map[string]bool{}
	for i, v := range tpl.Spec.Volumes {
		p := spec.Child("volumes").Index(i)
		errs = append(errs, invalid(p.Child("name"), v.Name, validation.IsDNS1123Label(v.Name))...)
		if volumes[v.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
		}
		volumes[v.Name] = true
		switch {
		case v.ConfigMap != nil:
			var keys []keyRef
			for j, item := range v.ConfigMap.Items {
				keys = append(keys, keyRef{p.Child("configMap", "items").Index(j).Child("key"), item.Key})
			}
			errs = append(errs, c.checkRef(m, p.Child("configMap", "name"), "ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional, keys...)...)
		case v.Secret != nil:
			var keys []keyRef
			for j, item := range v.Secret.Items {
				keys = append(keys, keyRef{p.Child("secret", "items").Index(j).Child("key"), item.Key})
			}
			errs = append(errs, c.checkRef(m, p.Child("secret", "secretName"), "Secret", v.Secret.SecretName, v.Secret.Optional, keys...)...)
		case v.PersistentVolumeClaim != nil:
			errs = append(errs, c.checkRef(m, p.Child("persistentVolumeClaim", "claimName"), "PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, nil)...)
		}
	}
	if sts, ok := m.obj.(*appsv1.StatefulSet); ok {
		for _, claim := range sts.Spec.VolumeClaimTemplates {
			volumes[claim.Name] = true
		}
	}
	if sa := tpl.Spec.ServiceAccountName; sa != "" && sa != "default" {
		errs = append(errs, c.checkRef(m, spec.Child("serviceAccountName"), "ServiceAccount", sa, nil)...)
	}

	names := map[string]bool{}
	for _, group := range []struct {
		field      string
		containers []corev1.Container
	}{{"initContainers", tpl.Spec.InitContainers}, {"containers", tpl.Spec.Containers}} {
		for i, ctr := range group.containers {
			p := spec.Child(group.field).Index(i)
			switch {
			case ctr.Name == "":
				errs = append(errs, field.Required(p.Child("name"), ""))
			case names[ctr.Name]:
				errs = append(errs, field.Duplicate(p.Child("name"), ctr.Name))
			default:
				errs = append(errs, invalid(p.Child("name"), ctr.Name, validation.IsDNS1123Label(ctr.Name))...)
			}
			names[ctr.Name] = true
			if ctr.Image == "" {
				errs = append(errs, field.Required(p.Child("image"), ""))
			}
			errs = append(errs, c.checkContainer(m, p, tpl, ctr, volumes)...)
		}
	}
	return errs
}

func (c *checker) checkContainer(m *manifest, p *field.Path, tpl *corev1.PodTemplateSpec, ctr corev1.Container, volumes map[string]bool) field.ErrorList {
	var errs field.ErrorList
	ports := map[string]bool{}
	for i, port := range ctr.Ports {
		pp := p.Child("ports").Index(i)
		errs = append(errs, invalid(pp.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		if port.Name == "" {
			continue
		}
		errs = append(errs, invalid(pp.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
		if ports[port.Name] {
			errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
		}
		ports[port.Name] = true
	}
	for i, vm := range ctr.VolumeMounts {
		if !volumes[vm.Name] {
			errs = append(errs, field.Invalid(p.Child("volumeMounts").Index(i).Child("name"), vm.Name, "no volume of the pod has this name"))
		}
	}
	for i, e := range ctr.Env {
		ep := p.Child("env").Index(i)
		errs = append(errs, invalid(ep.Child("name"), e.Name, validation.IsEnvVarName(e.Name))...)
		if e.ValueFrom == nil {
			continue
		}
		ep = ep.Child("valueFrom")
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			errs = append(errs, c.checkRef(m, ep.Child("secretKeyRef", "name"), "Secret", r.Name, r.Optional, keyRef{ep.Child("secretKeyRef", "key"), r.Key})...)
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			errs = append(errs, c.checkRef(m, ep.Child("configMapKeyRef", "name"), "ConfigMap", r.Name, r.Optional, keyRef{ep.Child("configMapKeyRef", "key"), r.Key})...)
		}
		if r := e.ValueFrom.FieldRef; r != nil {
			// A missing label leaves the variable empty, silently.
			if key, ok := strings.CutPrefix(r.FieldPath, "metadata.labels['"); ok {
				if _, ok := tpl.Labels[strings.TrimSuffix(key, "']")]; !ok {
					errs = append(errs, field.Invalid(ep.Child("fieldRef", "fieldPath"), r.FieldPath, "the pod template has no such label"))
				}
			}
		}
	}
	for i, from := range ctr.EnvFrom {
		fp := p.Child("envFrom").Index(i)
		if r := from.SecretRef; r != nil {
			errs = append(errs, c.checkRef(m, fp.Child("secretRef", "name"), "Secret", r.Name, r.Optional)...)
		}
		if r := from.ConfigMapRef; r != nil {
			errs = append(errs, c.checkRef(m, fp.Child("configMapRef", "name"), "ConfigMap", r.Name, r.Optional)...)
		}
	}
	errs = append(errs, checkProbe(p.Child("livenessProbe"), ctr.LivenessProbe, ports)...)
	errs = append(errs, checkProbe(p.Child("readinessProbe"), ctr.ReadinessProbe, ports)...)
	errs = append(errs, checkProbe(p.Child("startupProbe"), ctr.StartupProbe, ports)...)
	for _, name := range slices.Sorted(maps.Keys(ctr.Resources.Limits)) {
		limit := ctr.Resources.Limits[name]
		if req, ok := ctr.Resources.Requests[name]; ok && req.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(name)), req.String(), "must not exceed the limit "+limit.String()))
		}
	}
	// The kubelet refuses runAsNonRoot for an image whose USER is a name, as
	// riftbridge's ("nonroot", distroless) is, unless runAsUser gives a number.
	sc := ctr.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	pod := tpl.Spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	// cmp.Or: the container's setting, else the pod's.
	nonRoot := cmp.Or(sc.RunAsNonRoot, pod.RunAsNonRoot)
	if nonRoot != nil && *nonRoot && cmp.Or(sc.RunAsUser, pod.RunAsUser) == nil {
		errs = append(errs, field.Required(p.Child("securityContext", "runAsUser"), "runAsNonRoot is set, and the kubelet cannot check an image's named USER: set it here or in the pod's securityContext"))
	}
	return errs
}

func checkProbe(p *field.Path, probe *corev1.Probe, ports map[string]bool) field.ErrorList {
	switch {
	case probe == nil:
		return nil
	case probe.HTTPGet != nil:
		return checkPort(p.Child("httpGet", "port"), probe.HTTPGet.Port, ports)
	case probe.TCPSocket != nil:
		return checkPort(p.Child("tcpSocket", "port"), probe.TCPSocket.Port, ports)
	case probe.GRPC != nil:
		return checkPort(p.Child("grpc", "port"), intstr.FromInt32(probe.GRPC.Port), ports)
	case probe.Exec != nil && len(probe.Exec.Command) > 0:
		return nil
	}
	return field.ErrorList{field.Required(p, "one of exec.command, httpGet, tcpSocket or grpc")}
}

// checkPort accepts a port number, or the name of one of names, as the
// kubelet resolves a named port among the container's ports.
func checkPort(p *field.Path, port intstr.IntOrString, names map[string]bool) field.ErrorList {
	if port.Type == intstr.String {
		if !names[port.StrVal] {
			return field.ErrorList{field.Invalid(p, port.StrVal, "names no declared container port")}
		}
		return nil
	}
	return invalid(p, port.IntVal, validation.IsValidPortNum(port.IntValue()))
}

// secretStandIn stands for the value of a Secret or of a field in a
// container's environment.
const secretStandIn = "stand-in"

// envRef is a $(NAME) reference in an environment value, which the kubelet
// replaces with NAME's value when NAME is defined earlier.
var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// TestRiftbridgeConfigs loads, with config.Load, the config that each
// riftbridge container reads (its --config, from a ConfigMap volume) in that
// container's environment, and validates it as the subcommand does:
// ValidateRun for run, Validate for the others. The image's own config,
// deploy/riftbridge.yaml, is config.TestShippedConfigsAreValid's.
func TestRiftbridgeConfigs(t *testing.T) {
	all, _ := loadManifests(t) // TestManifests reports what does not decode
	c := &checker{all: all}
	checked := 0
	for _, m := range c.all {
		tpl := podTemplate(m.obj)
		if tpl == nil {
			continue
		}
		for i, ctr := range tpl.Spec.Containers {
			if ctr.Image != "riftbridge" && !strings.HasPrefix(ctr.Image, "riftbridge:") {
				continue
			}
			where := fmt.Sprintf("%s: %s", m, templatePath.Child("spec", "containers").Index(i))
			flags := pflag.NewFlagSet("riftbridge", pflag.ContinueOnError)
			flags.ParseErrorsAllowlist.UnknownFlags = true
			path := flags.String("config", "", "")
			if err := flags.Parse(ctr.Args); err != nil || *path == "" {
				t.Errorf("%s: args %q name no --config, so its config is not checked (%v)", where, ctr.Args, err)
				continue
			}
			files, err := c.mountedConfig(m, tpl, ctr, *path)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			for _, f := range files {
				t.Run(fmt.Sprintf("%s/%s/from %s", filepath.Base(m.file), ctr.Name, filepath.Base(f.from.file)), func(t *testing.T) {
					setContainerEnv(t, ctr.Env)
					if err := loadAndValidate(t, filepath.Base(*path), f.content, flags.Arg(0)); err != nil {
						t.Errorf("%s: --config %s from %s: %v", where, *path, f.from, err)
					}
				})
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no riftbridge container reads a config from a ConfigMap: nothing was checked")
	}
}

// configFile is a file's content in a ConfigMap.
type configFile struct {
	from    *manifest
	content string
}

// mountedConfig returns the content of path in container ctr, which must lie
// on a ConfigMap volume: one per definition of that ConfigMap in scope.
func (c *checker) mountedConfig(m *manifest, tpl *corev1.PodTemplateSpec, ctr corev1.Container, path string) ([]configFile, error) {
	for _, vm := range ctr.VolumeMounts {
		rel, ok := strings.CutPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")
		i := slices.IndexFunc(tpl.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
		if !ok || vm.SubPath != "" || i < 0 || tpl.Spec.Volumes[i].ConfigMap == nil {
			continue
		}
		src := tpl.Spec.Volumes[i].ConfigMap
		key := rel
		if len(src.Items) > 0 {
			j := slices.IndexFunc(src.Items, func(item corev1.KeyToPath) bool { return item.Path == rel })
			if j < 0 {
				return nil, fmt.Errorf("--config %s: ConfigMap volume %q maps no key to %s", path, vm.Name, rel)
			}
			key = src.Items[j].Key
		}
		var files []configFile
		for _, def := range c.find(m, "ConfigMap", m.obj.GetNamespace(), src.Name) {
			if data, ok := def.obj.(*corev1.ConfigMap).Data[key]; ok {
				files = append(files, configFile{def, data})
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--config %s: no ConfigMap %s in kubernetes/ has key %q", path, nsName(m.obj.GetNamespace(), src.Name), key)
		}
		return files, nil
	}
	return nil, fmt.Errorf("--config %s is on no ConfigMap volume mount", path)
}

// setContainerEnv gives the test the variables that config.Load reads as the
// container has them, with stand-ins for Secrets and fields, and unsets the
// test process's own (an empty variable counts as unset).
func setContainerEnv(t *testing.T, env []corev1.EnvVar) {
	read := func(name string) bool {
		return name == "RIOT_API_KEY" || strings.HasPrefix(name, config.EnvPrefix+"_")
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); read(name) {
			t.Setenv(name, "")
		}
	}
	values := map[string]string{}
	for _, e := range env {
		v := envRef.ReplaceAllStringFunc(e.Value, func(ref string) string {
			if val, ok := values[envRef.FindStringSubmatch(ref)[1]]; ok {
				return val
			}
			return ref
		})
		if e.ValueFrom != nil {
			v = secretStandIn
		}
		values[e.Name] = v
		if read(e.Name) {
			t.Setenv(e.Name, v)
		}
	}
}

// loadAndValidate loads content as the config file name and validates it as
// subcommand does.
func loadAndValidate(t *testing.T, name, content, subcommand string) error {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		return err
	}
	if subcommand == "run" {
		return cfg.ValidateRun()
	}
	return cfg.Validate()
}
