package dev.amb.core;

/**
 * A publish refused because a subscription's queue is at capacity: rejected at once under
 * {@link BackpressurePolicy#REJECT}, or after the block timeout under {@link BackpressurePolicy#BLOCK}.
 */
public class BackpressureException extends AmbException {

	private static final long serialVersionUID = 1L;

	private final String subscription;

	private final BackpressurePolicy policy;

	public BackpressureException(String message, String subscription, BackpressurePolicy policy) {
		super(message);
		this.subscription = subscription;
		this.policy = policy;
	}

	/**
	 * The subscription whose queue was full.
	 * @return the subscription id
	 */
	public String getSubscription() {
		return this.subscription;
	}

	/**
	 * The policy that applied.
	 * @return the policy
	 */
	public BackpressurePolicy getPolicy() {
		return this.policy;
	}

}
