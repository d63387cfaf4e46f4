package dev.amb.core;

import java.nio.file.Path;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the API, SPI, in-memory, persistence and codec packages free of Spring and of the
 * backend adapters, so that the bus runs without either on the class path.
 */
class ArchitectureTests {

	/** The packages that must stay plain Java (plus Jackson for the codec). */
	static final String[] SPRING_FREE = { "dev.amb.core", "dev.amb.core.spi..", "dev.amb.core.inmemory..",
			"dev.amb.core.persistence..", "dev.amb.core.codec.." };

	static final ArchRule NO_SPRING_NOR_ADAPTERS = noClasses().that()
		.resideInAnyPackage(SPRING_FREE)
		.should()
		.dependOnClassesThat()
		.resideInAnyPackage("org.springframework..", "dev.amb.core.adapters..")
		.because("the bus must run without Spring and without any backend library on the class path");

	@Test
	void coreIsFreeOfSpringAndOfTheAdapters() throws Exception {
		// Only amb-core's own classes: scanning every jar on the class path for the package is slow.
		Path mainClasses = Path.of(DefaultMessageBus.class.getProtectionDomain().getCodeSource().getLocation().toURI());
		JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
			// The adapters are not guarded; what depends on them is found by name without importing them.
			.withImportOption((location) -> !location.contains("/dev/amb/core/adapters/"))
			.importPath(mainClasses);
		assertThat(classes.contain(DefaultMessageBus.class)).isTrue();
		assertThat(classes.contain(dev.amb.core.inmemory.InMemoryBroker.class)).isTrue();
		NO_SPRING_NOR_ADAPTERS.check(classes);
	}

	@Test
	void ruleCatchesASpringDependency() {
		JavaClasses leaking = new ClassFileImporter().importClasses(SpringLeak.class);
		assertThat(NO_SPRING_NOR_ADAPTERS.evaluate(leaking).hasViolation()).isTrue();
	}

	/** A class in the guarded package that uses Spring: the rule must reject it. */
	static final class SpringLeak {

		boolean blank(String text) {
			return !org.springframework.util.StringUtils.hasText(text);
		}

	}

}
