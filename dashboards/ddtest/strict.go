package ddtest

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
)

// decodeStrict decodes body into a datadog-api-client model and rejects what
// the models tolerate silently: values they could not parse (an unknown enum,
// a widget definition that matches no type), kept in UnparsedObject, and
// unknown fields, kept in AdditionalProperties.
func decodeStrict(body []byte, v any) error {
	if err := datadog.Unmarshal(body, v); err != nil {
		return fmt.Errorf("invalid body: %w", err)
	}
	return checkParsed(reflect.ValueOf(v), "body")
}

func checkParsed(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkParsed(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkParsed(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if err := checkParsed(v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f, fv := t.Field(i), v.Field(i)
			if !f.IsExported() {
				continue
			}
			switch f.Name {
			case "UnparsedObject":
				if !fv.IsNil() {
					return fmt.Errorf("%s: not a valid %s", path, t.Name())
				}
			case "AdditionalProperties":
				if fv.Len() > 0 {
					keys := slices.Sorted(maps.Keys(fv.Interface().(map[string]any)))
					return fmt.Errorf("%s: unknown field(s) %s in %s", path, strings.Join(keys, ", "), t.Name())
				}
			default:
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" {
					name = f.Name
				}
				if err := checkParsed(fv, path+"."+name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
