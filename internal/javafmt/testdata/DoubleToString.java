// Prints "<bits> <Double.toString>" for each line of hexadecimal double bits read from stdin; it made
// java25.txt: java DoubleToString.java < bits > java25.txt (Java 25.0.3).
import java.io.BufferedReader;
import java.io.InputStreamReader;

public class DoubleToString {
    public static void main(String[] args) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in));
        for (String l; (l = r.readLine()) != null; ) {
            double d = Double.longBitsToDouble(Long.parseUnsignedLong(l, 16));
            System.out.println(l + " " + Double.toString(d));
        }
    }
}
