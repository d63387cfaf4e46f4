package dev.amb.core.persistence;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The write-ahead log stays usable without Spring and without any backend's library.
 */
class PersistenceArchitectureTests {

	@Test
	void persistenceDependsOnNeitherSpringNorTheAdapters() {
		JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
			.importPackages("dev.amb.core.persistence");
		noClasses().that()
			.resideInAPackage("dev.amb.core.persistence..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.springframework..", "dev.amb.core.adapters..", "io.lettuce..", "org.apache.kafka..",
					"com.rabbitmq..", "tools.jackson..")
			.check(classes);
	}

}
