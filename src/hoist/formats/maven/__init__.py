"""The Maven repository view at ``/maven/<registry>/``: mvn and Gradle deploy and resolve in the
standard layout; what a registry shows is what was pushed or promoted into it."""
