package logs

import "testing"

// TestTransformationJavaStringDouble checks that the validation message echoes a default value as
// Java prints a Double: this copy of the formatting once printed 1e7 as "10000000.0", where Java
// (and AWS) print "1.0E7".
func TestTransformationJavaStringDouble(t *testing.T) {
	for v, want := range map[float64]string{1e7: "1.0E7", 1e-4: "1.0E-4", 0: "0.0", 2.5: "2.5"} {
		tr := MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1", DefaultValue: &v}
		got := tr.javaString()
		if w := "MetricTransformation(metricName=m, metricNamespace=n, metricValue=1, defaultValue=" + want + ", unit=null, dimensions=null)"; got != w {
			t.Errorf("javaString with default %v = %q, want %q", v, got, w)
		}
	}
}
